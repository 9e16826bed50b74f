#!/usr/bin/env bash
# Runs a command (e.g. `npm test`) with TMPDIR set to a fresh empty directory,
# then fails if anything is left in it: tests must clean up after themselves.
# Usage: scripts/no-temp-leftovers.sh npm test
# Exit status: the command's own if it failed, 1 if it passed but left
# something behind, else 0. The directory is removed either way.
set -uo pipefail

tmp="$(mktemp -d "${TMPDIR:-/tmp}/tessera-tmpdir.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

TMPDIR="$tmp" "$@"
status=$?

# tsx keeps its compile cache in $TMPDIR/tsx-<uid>: a tool's cache, not a test's leftover.
leftovers="$(find "$tmp" -mindepth 1 -maxdepth 1 ! -name "tsx-$(id -u)" -printf '%f\n' | sort)"
if [ -n "$leftovers" ]; then
  echo "no-temp-leftovers: the run left these in TMPDIR (a test or harness does not clean up):" >&2
  while IFS= read -r name; do
    echo "  $name" >&2
    find "$tmp/$name" -mindepth 1 -maxdepth 2 -printf '    %P\n' 2>/dev/null | head -n 5 >&2
  done <<< "$leftovers"
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
