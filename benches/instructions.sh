#!/usr/bin/env bash
# Instruction counts (callgrind) of the tutorial map: parapool's thread and inline backends, rayon
# and a sequential loop doing the same work, 5 x 1,000,000 words each (word creation included). Deterministic for a given binary,
# unlike wall time on a shared machine. Needs valgrind (apt-get install valgrind).
#
#   bash benches/instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release --example map_workload
bin=target/release/examples/map_workload
printf '%-10s %-7s %-6s %15s %8s %8s\n' runner words letter instructions vs_seq vs_rayon
for words in owned static borrowed; do
  for letter in "" e; do
    declare -A count=()
    for runner in sequential inline rayon parapool; do
      count[$runner]=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$runner" "$words" $letter 2>&1 \
        | awk '/refs:/ {gsub(",", "", $NF); print $NF}')
    done
    for runner in sequential inline rayon parapool; do
      vs_seq=$(awk -v a="${count[$runner]}" -v b="${count[sequential]}" 'BEGIN { printf "%.3f", a / b }')
      vs_rayon=$(awk -v a="${count[$runner]}" -v b="${count[rayon]}" 'BEGIN { printf "%.3f", a / b }')
      printf '%-10s %-7s %-6s %15s %8s %8s\n' "$runner" "$words" "${letter:-all}" "${count[$runner]}" "$vs_seq" "$vs_rayon"
    done
  done
done
