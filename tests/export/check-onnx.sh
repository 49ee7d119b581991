#!/usr/bin/env bash
# Trains a tiny run of each of the five models with the command line, exports it, and checks every exported graph
# with Debian's ONNX checker (python3-onnx, full check: shapes and types inferred through the whole graph).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python=/usr/bin/python3
if ! "$python" -c "import onnx" 2> /dev/null; then
  echo "check-onnx: Debian's python3-onnx is not installed (apt-get install python3-onnx)"
  exit 1
fi

cli=(dotnet run -c Release --no-build --project "$repo/samples/TiledEnsemble.Cli" --)
"${cli[@]}" demo --output "$work/demo" --image-size 64 > /dev/null
for model in Padim Patchcore Stfpm Fastflow ReverseDistillation; do
  # Reverse Distillation needs tiles of 64 or more; the others run 2×2 tiles of 32 with overlap.
  tile=32; stride=16
  if [ "$model" = ReverseDistillation ]; then tile=64; stride=64; fi
  cat > "$work/$model.yaml" <<CONFIG
seed: 3
default_root_dir: $work/results
tiling:
  image_size: 64
  tile_size: $tile
  stride: $stride
data:
  class_path: anomalib.data.MVTecAD
  init_args:
    root: $work/demo/data
    category: fabric
    train_batch_size: 8
    eval_batch_size: 8
TrainModels:
  model:
    class_path: $model
    init_args:
      flow_steps: 2
  trainer:
    max_epochs: 1
export:
  types: [onnx]
CONFIG
  "${cli[@]}" train --config "$work/$model.yaml" --no-test --run-dir "$work/runs/$model" > /dev/null
  "$python" - "$work/runs/$model/export/model.onnx" <<'PYTHON'
import sys
import onnx
model = onnx.load(sys.argv[1])
onnx.checker.check_model(model, full_check=True)
print(f"check-onnx: {sys.argv[1].split('/')[-3]}: opset {model.opset_import[0].version}, {len(model.graph.node)} nodes: valid")
PYTHON
done

# The weights in an external data file, as graphs beyond protocol buffers' 2 GB have them.
"${cli[@]}" export --root "$work/runs/Padim" --output "$work/external" --external-data-above 0 > /dev/null
test -f "$work/external/model.onnx.data"
"$python" - "$work/external/model.onnx" <<'PYTHON'
import sys
import onnx
onnx.checker.check_model(sys.argv[1], full_check=True)
print("check-onnx: Padim with external data: valid")
PYTHON
