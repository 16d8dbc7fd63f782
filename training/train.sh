#!/usr/bin/env bash
# Rebuilds the dataset and retrains every shipped model, from scratch, on CPU:
#   training/train.sh            full run (~10-15 min on 2 cores: dataset, then training)
#   training/train.sh --tiny     a small smoke run into out/tiny-models (CI)
# Environment: JOBS (worker threads for the dataset, default 2), DATA (dataset dir),
# MODELS (output dir). Creates training/.venv from training/requirements.txt on first use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root"

tiny=0
if [[ "${1:-}" == "--tiny" ]]; then tiny=1; fi
jobs="${JOBS:-2}"

venv="$here/.venv"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
fi

if [[ $tiny == 1 ]]; then
  data="${DATA:-out/tiny-dataset}"
  models="${MODELS:-out/tiny-models}"
  limit=(--limit 24)
  extra=(--tiny)
else
  data="${DATA:-out/dataset}"
  models="${MODELS:-models}"
  limit=()
  extra=()
fi

# Training reads train and val only; the test split is for `eval`.
cargo run --release --quiet --example ml -- dataset --out "$data" --splits train,val \
  --jobs "$jobs" "${limit[@]}"
"$venv/bin/python" "$here/train.py" --data "$data" --models "$models" "${extra[@]}"
