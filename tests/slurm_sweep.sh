#!/usr/bin/env bash
# slurm_sweep.sh CLI RESOURCE_DIR REPO - a sweep run as a real Slurm job array on a single-node
# Slurm (scripts/slurm-local), its shards merged with `sessions merge`, must hold exactly the runs
# of the same sweep run in one process: the same grid points, the same accuracies. Exits 77
# (skipped, with the reason) where Slurm cannot run: not root, or the daemons do not start.
set -uo pipefail
cli="$(realpath "$1")"; resources="$(realpath "$2")"; repo="$(realpath "$3")"
skip() { echo "SKIPPED: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "starting slurmctld, slurmd and munged needs root"
dir="$(mktemp -d /tmp/sparsescope-slurm-test.XXXXXX)"
export SPARSESCOPE_SLURM_DIR="$dir/slurm"
started=0
cleanup() {
  [ "$started" -eq 1 ] && "$repo/scripts/slurm-local" stop >/dev/null 2>&1
  rm -rf "$dir"
}
trap cleanup EXIT
if ! out="$("$repo/scripts/slurm-local" start 2>&1)"; then skip "Slurm cannot run here: $out"; fi
started=1
export SLURM_CONF="$SPARSESCOPE_SLURM_DIR/slurm.conf"

model="$resources/models/fashion-moe"
grid="--sparsity 0,0.5,0.9 --quant none,int8 --limit 500 --latency-samples 20"
export SPARSESCOPE_CLI="$cli" MODEL="$model" SWEEP_OUT="$dir/shards" SWEEP_GRID="$grid"
cd "$dir" || exit 1
if ! sbatch --wait --array=0-2 --time=10 "$repo/scripts/slurm/sweep-array.sbatch" >sbatch.out 2>&1; then
  echo "FAIL: the job array failed:"; cat sbatch.out sweep-*.log 2>/dev/null; exit 1
fi
for i in 0 1 2; do
  grep -q "shard $i/3 takes" sweep-*_"$i".log || { echo "FAIL: array task $i did not run shard $i/3"; cat sweep-*.log; exit 1; }
done
"$cli" sessions merge merged.sparsescope shards/shard-*.sparsescope 2>merge.err || { cat merge.err; exit 1; }
# shellcheck disable=SC2086
"$cli" sweep "$model" $grid --session whole.sparsescope 2>whole.err || { cat whole.err; exit 1; }

# Plan and accuracy of every run, by grid point: the columns named in the CSV header.
runs_of() {
  "$cli" sessions export "$1" --format csv | awk -F, '
    NR == 1 { for (i = 1; i <= NF; ++i) col[$i] = i; next }
    { print $col["prune"] "|" $col["quant"] "|" $col["samples"] "|" $col["accuracy"] "|" $col["agreement"] }' | sort
}
merged="$(runs_of merged.sparsescope)"; whole="$(runs_of whole.sparsescope)"
n="$(printf '%s\n' "$merged" | grep -c .)"
points="$(grep -o 'sweep: [0-9]* grid points' whole.err | grep -o '[0-9]*')"
[ "$n" -eq "$points" ] || { echo "FAIL: the merged session holds $n runs, expected $points grid points"; printf '%s\n' "$merged"; exit 1; }
if [ "$merged" != "$whole" ]; then
  echo "FAIL: the job array's runs differ from one sweep's:"; diff <(printf '%s\n' "$whole") <(printf '%s\n' "$merged"); exit 1
fi
echo "PASS: 3 Slurm array tasks ran the $points grid points once each; merged, they equal one process's sweep"
printf '%s\n' "$merged"
