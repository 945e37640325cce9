#!/usr/bin/env bash
# The converged activation study (issue 13): every activation trained with the problem file's settings (Adam, then
# SSBroyden; RAD for Burgers and KdV) at the study budget below, Adam's learning rate and the init (critical or
# Glorot) tuned per activation and depth on tuning seed 100 by the final training loss (never the exact solution),
# then seeds 0-4 with the chosen values.  Depths run in the order 3, 10, 5, 7, so that a partial study has the
# extremes first.
# Study budgets (SSBroyden iterations after the problem file's Adam phase): where the best activation is converged
# below the issue's targets (heat, Poisson 2D <= 1e-4; Burgers <= 1e-3) at a cost that lets the whole study run on
# two cores: results/optimizers.md has tanh depth 4 at 1e-6 after 1100 iterations (heat), 1e-5 after 990 (Poisson
# 2D), 1e-4 after 840 (Burgers).
# Resumable: re-running skips finished runs, so the study spans sessions; summary.{csv,md}, tuning.csv, the
# figures and ledger.jsonl are committed with the status line of summary.md (how many runs are done).  The ledger
# (one line per finished run) is what a fresh clone resumes from: the run folders are not committed.
# heat-w50 is the width check: heat at width 50, depths 3 and 5, the smooth activations, into results/study/heat-w50
# (depth 10 at width 50 has 23 000 parameters: the dense 23 000^2 float64 inverse Hessian, 4.2 GB, is over the
# phase's max_memory_mb = 2048 budget; depth 5 has 10 400 parameters, 0.87 GB).
#   bash benchmarks/converged_study.sh [heat|poisson2d|burgers|kdv|heat-w50 ...]   (default: the four problems)
#   DEPTHS=3,10 bash benchmarks/converged_study.sh ...   a subset of the depths first (the same folders: a later
#                                                        run with all depths reuses these runs)
#   REPORT=1 bash benchmarks/converged_study.sh ...      run nothing: rewrite the summaries and figures over all
#                                                        depths from the finished runs (compare --report)
set -euo pipefail
cd "$(dirname "$0")/.."
ACTS="mrepu:2,mrepu:3,tanh,repu:2,repu:3,gelu,silu,sin,relu"
COMMON=(--depths "${DEPTHS:-3,10,5,7}" --seeds 0-4 --tune "train.phases.adam.lr=1e-3,3e-3" --tune "network.init=critical,glorot_normal"
        --tune-seeds 100 --tune-by loss --jobs "${JOBS:-2}" --quiet ${REPORT:+--report})
budget() {
  case "$1" in
    heat) echo 1000 ;;
    poisson2d|burgers) echo 1500 ;;
    kdv) echo 1000 ;;
    *) echo "converged_study.sh: no study budget for '$1' (heat, poisson2d, burgers, kdv)" >&2; exit 2 ;;
  esac
}
for target in ${@:-heat poisson2d burgers kdv}; do
  p="$target" acts="$ACTS" extra=()
  [ "$p" = kdv ] && acts="$ACTS,mrepu:4"
  if [ "$target" = heat-w50 ]; then
    p=heat acts="mrepu:2,mrepu:3,tanh,gelu,silu,sin" extra=(--set network.width=50)
  fi
  steps="$(budget "$p")"
  args=(--activations "$acts" --set "train.phases.ssbroyden.steps=$steps" "${extra[@]}" "${COMMON[@]}")
  [ "$target" = heat-w50 ] && args+=(--depths 3,5)  # the later --depths wins
  pinn-mrepu compare "problems/$p.yaml" "${args[@]}" --out "results/study/$target"
done
