#!/usr/bin/env bash
# The published activation study (results/compare/): MRePU (p = 2, 3), tanh, RePU (p = 2) and GELU at depths
# 3, 5, 7, 10 with seeds 0-4 on burgers, heat and poisson2d, width fixed per problem (the YAML's: 20), budgets cut
# to fit a 2-core CPU (Adam, then L-BFGS: the optimizer of that study; the committed tables were made with the
# session-1 trainer and torch's L-BFGS, so a rerun now gives close but not identical numbers).  Re-running resumes (finished runs are skipped).  Run folders (with checkpoints) stay
# under results/compare/<problem>/runs/, which git ignores; summary.{csv,md} and the figures are committed.
set -euo pipefail
cd "$(dirname "$0")/.."
ACTS="mrepu:2,mrepu:3,tanh,repu:2,gelu"
COMMON=(--activations "$ACTS" --depths 3,5,7,10 --seeds 0-4 --jobs "${JOBS:-2}" --quiet)
pinn-mrepu compare problems/burgers.yaml "${COMMON[@]}" --out results/compare/burgers \
  --set train.points.interior=1024 --set train.resample.every=0 \
  --set "train.phases=[{optimizer: adam, steps: 300}, {optimizer: lbfgs, steps: 200}]"
pinn-mrepu compare problems/heat.yaml "${COMMON[@]}" --out results/compare/heat \
  --set train.points.interior=512 --set "train.phases=[{optimizer: adam, steps: 200}, {optimizer: lbfgs, steps: 150}]"
pinn-mrepu compare problems/poisson2d.yaml "${COMMON[@]}" --out results/compare/poisson2d \
  --set train.points.interior=512 --set "train.phases=[{optimizer: adam, steps: 200}, {optimizer: lbfgs, steps: 150}]"
