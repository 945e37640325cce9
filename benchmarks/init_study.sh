#!/usr/bin/env bash
# Does the critical initialisation help PINN training?  Burgers at depth 7, MRePU (p = 2) and tanh, seeds 0-4,
# Glorot normal init, with the same budgets as the activation study (benchmarks/compare_study.sh), whose
# depth-7 runs supply the `init: critical` side.  Summary in results/criticality/burgers-glorot/.
set -euo pipefail
cd "$(dirname "$0")/.."
pinn-mrepu compare problems/burgers.yaml --activations mrepu:2,tanh --depths 7 --seeds 0-4 --jobs "${JOBS:-1}" --quiet \
  --set train.points.interior=1024 --set train.resample.every=0 \
  --set "train.phases=[{optimizer: adam, steps: 300}, {optimizer: lbfgs, steps: 200}]" \
  --set network.init=glorot_normal --out results/criticality/burgers-glorot
