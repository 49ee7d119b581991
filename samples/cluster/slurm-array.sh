#!/usr/bin/env bash
# A tiled ensemble trained by a Slurm job array of 4 tasks into one shared run folder, then finalized by a dependent
# job. Slurm gives each task SLURM_ARRAY_TASK_ID (0..3 here); `--shard 4` reads it. Submit from a login node:
#   sbatch samples/cluster/slurm-array.sh
# The folder WORK must be on a file system every node mounts (NFS, Lustre, GPFS). See docs/scale-out.md.
#SBATCH --job-name=tiled-ensemble
#SBATCH --array=0-3
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --requeue
set -euo pipefail
WORK=${WORK:-/shared/inspection}
SHARDS=4   # keep equal to the --array size

tiled-ensemble train --config "$WORK/ens_config.yaml" --run-dir "$WORK/runs/bottle-run0" \
  --shard "$SHARDS" --threads "${SLURM_CPUS_PER_TASK:-4}" --no-test

# The last task to finish submits nothing; the final step is its own job, started when every task has succeeded:
#   sbatch --dependency=afterok:<array job id> --wrap \
#     "tiled-ensemble train --config $WORK/ens_config.yaml --run-dir $WORK/runs/bottle-run0 --finalize"
