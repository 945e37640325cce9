#!/usr/bin/env bash
# The converged activation study (issue 13): every activation trained with the problem file's own converged
# settings (Adam, then SSBroyden; RAD for Burgers), Adam's learning rate and the init (critical or Glorot: at width
# 20 the critical init of MRePU blows up at depth >= 7, see results/experiments/) tuned per activation and depth on seeds
# 100-101 by the final training loss (never the exact solution), then seeds 0-4 at the chosen rate.
# Resumable: re-running skips finished runs, so the study spans sessions; summary.{csv,md}, tuning.csv and the
# figures are committed with the status line of summary.md (how many runs are done).
#   bash benchmarks/converged_study.sh [heat|poisson2d|burgers|kdv ...]   (default: all four, in that order)
set -euo pipefail
cd "$(dirname "$0")/.."
ACTS="mrepu:2,mrepu:3,tanh,repu:2,repu:3,gelu,silu,sin,relu"
COMMON=(--depths 3,5,7,10 --seeds 0-4 --tune "train.phases.adam.lr=1e-3,3e-3" --tune "network.init=critical,glorot_normal" --tune-seeds 100-101
        --tune-by loss --jobs "${JOBS:-2}" --quiet)
for problem in "${@:-heat poisson2d burgers kdv}"; do
  for p in $problem; do
    acts="$ACTS"
    [ "$p" = kdv ] && acts="$ACTS,mrepu:4"
    pinn-mrepu compare "problems/$p.yaml" --activations "$acts" "${COMMON[@]}" --out "results/study/$p"
  done
done
