#!/usr/bin/env bash
# `npm test`: every test layer, in order, each in a fresh process:
#   0. lint (ESLint, type-checked, with the layer rules) and the format check (Prettier): first, and a failure stops
#      the run at once (they take a minute; the layers below take many)
#   1. type check + compile (tsc -> a fresh out/; the webview has its own tsconfig)   2. unit tests (node --test)
#   3. cluster: jobs on a real one-node Slurm cluster (test/cluster); skipped, with the reason, where it cannot run
#   4. integration tests inside the extension host of a real VS Code (code-server)
#   5. e2e: the packaged VSIX installed into code-server and driven with Chromium (screenshots in test-output/e2e/)
# Before anything, the system packages are ensured (scripts/system-packages.sh). Before layer 3 the bundles are built
# and code-server is installed (scripts/vscode/setup.sh; skipped when already there): layers 3 to 5 run VS Code.
# From layer 1 on every layer runs even when an earlier one fails, so one run shows everything; the exit code is 1
# if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

# The tests talk to loopback servers only. A machine with HTTP(S)_PROXY set must not send those requests to its proxy
# (loopback is not bypassed implicitly, as in curl).
export NO_PROXY="${NO_PROXY:+$NO_PROXY,}127.0.0.1,localhost,::1" no_proxy="${no_proxy:+$no_proxy,}127.0.0.1,localhost,::1"

failed=()
skipped=()
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

# The cluster layer: each test file starts a one-node Slurm cluster (scripts/slurm/setup.sh) and takes it down after
# its tests, failed or not. The cluster runs its daemons as root and needs Debian's Slurm packages, ensured here like
# the others (.ci/run installs them, so CI always runs it); where it cannot run (not root, or the packages missing and
# not installable) the layer is skipped with one line saying why and how to run it. Its test files make their folders
# under a temporary folder of this script's, so that the clusters of a test process that died before taking them down
# (Ctrl-C) are taken down here.
cluster_tmp=""
take_down_clusters() {
  local sandbox
  for sandbox in "$cluster_tmp"/*/slurm; do
    [ -d "$sandbox" ] && SLURM_SANDBOX="$sandbox" bash scripts/slurm/setup.sh down
  done
  rm -rf "$cluster_tmp"
}
cluster_layer() {
  local packages why=""
  packages=$(bash scripts/slurm/setup.sh packages)
  if [ "$(id -u)" -ne 0 ]; then
    why="not root (the one-node Slurm cluster runs its daemons as root); run \`npm run test:cluster\` as root"
  # shellcheck disable=SC2086 # one word per package
  elif ! bash scripts/system-packages.sh $packages >"$LOGS/cluster-packages.log" 2>&1; then
    why="Slurm's packages ($packages) are missing and cannot be installed here; install them (the command is in"
    why+=" $LOGS/cluster-packages.log), then run \`npm run test:cluster\`"
  fi
  if [ -n "$why" ]; then
    echo; echo "=== cluster: SKIPPED: $why"
    skipped+=(cluster)
    return
  fi
  cluster_tmp=$(mktemp -d)
  trap 'take_down_clusters; exit 130' INT TERM
  TMPDIR=$cluster_tmp layer cluster node --test --test-concurrency=1 out/test/cluster
  trap - INT TERM
  take_down_clusters
}
cluster_layer

layer integration node out/test/integration/runInVsCode.js
# One file at a time: each e2e test starts its own code-server and Chromium; together they would starve each other.
layer e2e node --test --test-concurrency=1 out/test/e2e/*.test.js

echo; echo "=== summary"
for name in lint format typecheck typecheck-webview unit build vscode-setup cluster integration e2e; do
  if [[ " ${skipped[*]} " == *" $name "* ]]; then
    printf '  %-18s %s\n' "$name" skipped
  else
    printf '  %-18s %4ss\n' "$name" "${seconds[$name]:-0}"
  fi
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
