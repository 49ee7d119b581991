#!/usr/bin/env bash
# Validates kubernetes-indexed-job.yaml against the Kubernetes API schemas offline, with the npm package
# kubernetes-models (the Job schema of batch/v1, checked by ajv). Needs Node.js and npm; .ci/run calls it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y > /dev/null
npm install --no-audit --no-fund --loglevel=error kubernetes-models@5.1.0 js-yaml@4.1.0 > /dev/null
cat > validate.mjs <<'SCRIPT'
import fs from 'fs';
import yaml from 'js-yaml';
import { Job } from 'kubernetes-models/batch/v1';
let failed = 0;
for (const doc of yaml.loadAll(fs.readFileSync(process.argv[2], 'utf8'))) {
  try { new Job(doc).validate(); console.log(`kubernetes manifest: ${doc.kind} ${doc.metadata.name} is valid`); }
  catch (e) { failed++; console.log(`kubernetes manifest: ${doc.metadata?.name} is INVALID: ${e.message}`); }
}
process.exit(failed ? 1 : 0);
SCRIPT
node validate.mjs "$here/kubernetes-indexed-job.yaml"
