#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 60) and prints libFuzzer's summary lines.
#   bash fuzz/run.sh [SECONDS]
# Needs the nightly toolchain and cargo-fuzz (installed here when missing).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi
for target in frame_reader wire_records worker_requests; do
  echo "=== ${target} (${seconds} s)"
  cargo +nightly fuzz run "${target}" -- -max_total_time="${seconds}" -rss_limit_mb=1024 2>&1 \
    | grep -E '^(Done|#[0-9]+ +DONE|==[0-9]+== ERROR|SUMMARY|stat::)' || true
done
