#!/usr/bin/env bash
# Real surface photographs for the quality benchmark: brick, grass and gravel (512x512, 8-bit grey) from Debian's
# python3-skimage package (scikit-image's data set; the photographs are CC0: CC0Textures "Bricks25" and "Gravel04",
# DeviantArt "Grass 01" by linolafett, as the package's docstrings record). Only the .deb is fetched, with
# `apt-get download` (no installation, no dependencies); the three PNGs are extracted into the folder given.
set -euo pipefail
target=${1:?usage: fetch-surface-photos.sh TARGET_DIR}
mkdir -p "$target"
if [[ -f "$target/brick.png" && -f "$target/grass.png" && -f "$target/gravel.png" ]]; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 777 "$work"
download() { (cd "$work" && apt-get download python3-skimage >/dev/null 2>&1); }
# A fresh machine may have no package lists yet: refresh them once (as root) and try again.
download || { [[ $(id -u) == 0 ]] && apt-get update -qq >/dev/null 2>&1 && download; } || {
  echo "apt-get download python3-skimage failed (run apt-get update, or put brick.png, grass.png and gravel.png in $target)" >&2
  exit 1
}
dpkg-deb -x "$work"/python3-skimage_*.deb "$work/x"
for name in brick grass gravel; do
  cp "$work/x/usr/lib/python3/dist-packages/skimage/data/$name.png" "$target/$name.png"
done
cp "$work/x/usr/share/doc/python3-skimage/copyright" "$target/COPYRIGHT-python3-skimage"
dpkg-deb -f "$work"/python3-skimage_*.deb Version > "$target/VERSION"
