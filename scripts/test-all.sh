#!/usr/bin/env bash
# `npm test`: every test layer, in order, each in a fresh process:
#   0. lint (ESLint, type-checked, with the layer rules) and the format check (Prettier): first, and a failure stops
#      the run at once (they take a minute; the layers below take many)
#   1. type check + compile (tsc -> a fresh out/; the webview has its own tsconfig)   2. unit tests (node --test)
#   3. integration tests inside the extension host of a real VS Code (code-server)
#   4. e2e: the packaged VSIX installed into code-server and driven with Chromium (screenshots in test-output/e2e/)
# Before anything, the system packages are ensured (scripts/system-packages.sh). Layers 3 and 4 install code-server
# first (scripts/vscode/setup.sh; skipped when already there).
# From layer 1 on every layer runs even when an earlier one fails, so one run shows everything; the exit code is 1
# if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

# The tests talk to loopback servers only. A machine with HTTP(S)_PROXY set must not send those requests to its proxy
# (loopback is not bypassed implicitly, as in curl).
export NO_PROXY="${NO_PROXY:+$NO_PROXY,}127.0.0.1,localhost,::1" no_proxy="${no_proxy:+$no_proxy,}127.0.0.1,localhost,::1"

failed=()
declare -A seconds
# Each layer's output is also kept in test-output/logs/<layer>.log, so the summary can name what failed: a CI that
# shows only the end of the output still shows which tests failed and why.
LOGS=test-output/logs
rm -rf "$LOGS" && mkdir -p "$LOGS"
layer() {
  local name="$1"; shift
  echo; echo "=== $name: $*"
  local start=$SECONDS
  if "$@" 2>&1 | tee "$LOGS/$name.log"; then
    echo "=== $name: passed"
  else
    echo "=== $name: FAILED"
    failed+=("$name")
  fi
  seconds[$name]=$((SECONDS - start))
}
# The failing tests of a layer, a few lines each: node:test's "not ok" lines with their error, mocha's numbered
# failures with their message, or else the layer's last lines.
failures_of() {
  local log="$LOGS/$1.log"
  local found
  found=$(grep -E -A7 '^\s*not ok [0-9]+ - |^\s+[0-9]+\) ' "$log" | grep -v -E '^\s*(---|duration_ms:|\.\.\.|location:|failureType:|code:|name:)' | cut -c1-240 | head -n 24)
  if [ -n "$found" ]; then echo "$found"; else tail -n 8 "$log" | cut -c1-240; fi
}

# The system packages the VS Code layers need (Chromium, code-server's build tools): installed here when missing,
# or the run stops at once with the command to run (scripts/system-packages.sh, shared with .ci/run).
bash scripts/system-packages.sh || exit 1

layer lint npx eslint --max-warnings 0 .
layer format npx prettier --check .
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]} (fix with \`npm run format\` and the lint findings above; the other layers were not run)"
  exit 1
fi
# out/ is emptied first: a compiled file whose source was moved or deleted must not let a test pass here that fails
# on a clean clone.
rm -rf out
layer typecheck npx tsc -p .
layer typecheck-webview npx tsc -p webview --noEmit
# tsc emits out/ even when it reports errors, so the tests still run and show what works.
layer unit node --test out/test/unit
layer build node scripts/build.mjs
layer vscode-setup bash scripts/vscode/setup.sh
layer integration node out/test/integration/runInVsCode.js
# One file at a time: each e2e test starts its own code-server and Chromium; together they would starve each other.
layer e2e node --test --test-concurrency=1 out/test/e2e/*.test.js

echo; echo "=== summary"
for name in lint format typecheck typecheck-webview unit build vscode-setup integration e2e; do
  printf '  %-18s %4ss\n' "$name" "${seconds[$name]:-0}"
done
if [ ${#failed[@]} -gt 0 ]; then
  for name in "${failed[@]}"; do
    echo; echo "=== what failed in $name (whole output: $LOGS/$name.log)"
    failures_of "$name"
  done
  echo; echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all layers passed"
