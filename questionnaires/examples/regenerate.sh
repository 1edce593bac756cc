#!/usr/bin/env bash
# Recreate the SIMULATED example sets from their seeds and planted paths (deterministic).
set -euo pipefail
cd "$(dirname "$0")/../.."
make_set() {  # id n seed
  local id=$1 n=$2 seed=$3 dir=questionnaires/examples/$1
  local common=(questionnaires/$id.yaml --model questionnaires/gum_model.lav --n "$n" --seed "$seed"
                --mess 0.05 --paths "$dir/planted_paths.yaml")
  surveykit simulate "${common[@]}" --layout wide -o "$dir/${id}_wide.xlsx"
  rm -rf "$dir/forms"
  surveykit simulate "${common[@]}" --layout form -o "$dir/forms" --truth-dir "$dir"
}
make_set ningbo_apparel 300 2010
make_set yongkang_hardware 250 2011
