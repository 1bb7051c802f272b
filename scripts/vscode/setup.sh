#!/usr/bin/env bash
# Install the real VS Code used by the integration and e2e tests: code-server (Coder's build of VS Code 1.100.3:
# server, web workbench, Node extension host) from npm, into a cache folder outside node_modules.
# Idempotent: does nothing when that version is already installed. Works offline with only the npm registry.
#
#   BERTFT_VSCODE_HOME   cache folder (default: <repo>/.vscode-test, gitignored)
#   CODE_SERVER_VERSION  default 4.100.3, the newest line whose engines.node is 20
#
# System packages it needs (ensured by scripts/system-packages.sh): ripgrep, build-essential, python3, libkrb5-dev, Node headers.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
VSCODE_HOME="${BERTFT_VSCODE_HOME:-$REPO/.vscode-test}"
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.100.3}"
INSTALL_DIR="$VSCODE_HOME/code-server"
MARKER="$INSTALL_DIR/installed-$CODE_SERVER_VERSION"

if [ -f "$MARKER" ] && [ -f "$INSTALL_DIR/node_modules/code-server/out/node/entry.js" ]; then
  echo "code-server $CODE_SERVER_VERSION already installed in $INSTALL_DIR"
  exit 0
fi

for tool in rg make g++ python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "setup: '$tool' is missing. Run: bash scripts/system-packages.sh" >&2
    exit 1
  fi
done

# Fix 1 of 4: node-gyp must find Node's headers locally (it downloads them from nodejs.org otherwise).
if [ -z "${npm_config_nodedir:-}" ]; then
  for d in /usr /usr/local "$(dirname "$(dirname "$(command -v node)")")"; do
    if [ -f "$d/include/node/common.gypi" ]; then export npm_config_nodedir="$d"; break; fi
  done
fi
echo "setup: node $(node -v), headers from ${npm_config_nodedir:-<none: node-gyp will try to download them>}"

# Fix 2 of 4: @vscode/ripgrep's postinstall downloads rg from GitHub, but first looks in
# $TMPDIR/vscode-ripgrep-cache-<package version>/<asset>. Seed that with Debian's rg.
# The versions are read from the packages themselves, so another code-server version works too.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack -q "code-server@$CODE_SERVER_VERSION" >/dev/null \
  && tar xzf code-server-*.tgz package/lib/vscode/npm-shrinkwrap.json)
RG_PKG="$(node -e 'const s=require(process.argv[1]);console.log(s.packages["node_modules/@vscode/ripgrep"].version)' \
  "$tmp/package/lib/vscode/npm-shrinkwrap.json")"
(cd "$tmp" && npm pack -q "@vscode/ripgrep@$RG_PKG" >/dev/null && tar xzf vscode-ripgrep-*.tgz package/lib/postinstall.js)
RG_TAG="$(sed -n "s/^const VERSION = '\(.*\)';.*/\1/p" "$tmp/package/lib/postinstall.js")"
RG_CACHE="${TMPDIR:-/tmp}/vscode-ripgrep-cache-$RG_PKG"
mkdir -p "$RG_CACHE" "$tmp/rg" && cp "$(command -v rg)" "$tmp/rg/rg"
tar czf "$RG_CACHE/ripgrep-$RG_TAG-x86_64-unknown-linux-musl.tar.gz" -C "$tmp/rg" rg
echo "setup: seeded $RG_CACHE with Debian's ripgrep"

mkdir -p "$INSTALL_DIR"
cd "$INSTALL_DIR"
rm -f installed-*
[ -f package.json ] || echo '{ "name": "bertft-vscode-test", "private": true }' > package.json
# Fix 3 of 4: npm_config_unsafe_perm, because code-server's postinstall.sh refuses to run as root without it.
# Fix 4 of 4: npm_config_yes, because node-pty's postinstall runs `npx node-gyp` (refused when npm's yes=false).
npm_config_unsafe_perm=true npm_config_yes=true npm install --no-audit --no-fund --no-save \
  "code-server@$CODE_SERVER_VERSION"
node node_modules/code-server/out/node/entry.js --config /dev/null --version
touch "$MARKER"
echo "setup: code-server $CODE_SERVER_VERSION ready in $INSTALL_DIR"
