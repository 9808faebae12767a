#!/usr/bin/env bash
# The public API of each published crate, as `cargo public-api` lists it from nightly's rustdoc
# JSON, compared with the reviewed listing committed in api/<crate>.txt.
#
#   bash api/check.sh          # fails with a diff when the surface changed
#   bash api/check.sh --bless  # rewrites the listings; review and commit the diff
#
# Needs the nightly toolchain and cargo-public-api (installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_PUBLIC_API_VERSION=0.52.0
if ! cargo public-api --version 2>/dev/null | grep -q "${CARGO_PUBLIC_API_VERSION}"; then
  cargo install --locked cargo-public-api --version "${CARGO_PUBLIC_API_VERSION}"
fi
bless=${1:-}
status=0
for crate in parapool parapool-core parapool-backends parapool-macros; do
  listing="api/${crate}.txt"
  actual=$(mktemp)
  # -s leaves out blanket impls (`impl<T> From<T> for T` and the like); auto traits stay listed,
  # so losing `Send` or `Sync` is a visible change.
  # --all-features: the optional features' API is listed (and reviewed) too.
  CARGO_TARGET_DIR=target/public-api cargo +nightly public-api -p "${crate}" -s --all-features --color never >"${actual}" 2>/dev/null
  if [ "${bless}" = "--bless" ]; then
    mv "${actual}" "${listing}"
    echo "wrote ${listing} ($(wc -l <"${listing}") lines)"
  elif ! diff -u "${listing}" "${actual}"; then
    echo "error: the public API of ${crate} changed; review the diff above, then run: bash api/check.sh --bless" >&2
    status=1
    rm -f "${actual}"
  else
    echo "${crate}: public API unchanged ($(wc -l <"${listing}") lines)"
    rm -f "${actual}"
  fi
done
exit "${status}"
