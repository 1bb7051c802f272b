#!/usr/bin/env bash
# The system packages `npm test` needs beyond Node, ensured before the layers that use them. Shared by `npm test`
# (scripts/test-all.sh) and `.ci/run`, so a fresh Debian 12 / Ubuntu machine passes README's test command alone.
#
#   chromium          the browser the integration and e2e layers drive (playwright-core)
#   ripgrep           stands in for @vscode/ripgrep's GitHub download when code-server is installed
#   build-essential   code-server's native modules are compiled by node-gyp (make, g++)
#   python3           node-gyp runs on it
#   libkrb5-dev       the headers of code-server's kerberos module
#
# Each is checked by what the tests use (a command or a header), so a machine that has them some other way needs no
# apt. What is missing is installed with apt-get (through sudo when not root, only when sudo needs no password);
# when that is impossible the script stops at once and prints the exact command to run.
#
# Usage: bash scripts/system-packages.sh [extra Debian packages to ensure, e.g. python3-torch]
#   CHROMIUM=/path/to/chromium   a browser somewhere else (then the chromium package is not needed)
#   BERTFT_APT_DRY_RUN=1         say what would be installed and exit 1 instead of installing (used by its test)
set -uo pipefail

declare -a missing=() reasons=()
need() { # need <package> <why> <test command...>
  local package="$1" why="$2"
  shift 2
  if ! "$@" >/dev/null 2>&1; then
    missing+=("$package")
    reasons+=("$package: $why")
  fi
}
has() { command -v "$1"; }

need chromium "the browser the integration and e2e tests drive" test -x "${CHROMIUM:-/usr/bin/chromium}"
need ripgrep "code-server's search (stands in for a GitHub download)" has rg
need build-essential "compiles code-server's native modules" bash -c 'command -v make && command -v g++'
need python3 "node-gyp runs on it" has python3
need libkrb5-dev "headers for code-server's kerberos module" test -f /usr/include/gssapi/gssapi.h
for package in "$@"; do
  need "$package" "asked for by the caller" bash -c "dpkg-query -W -f='\${Status}' '$package' | grep -q 'install ok installed'"
done

[ ${#missing[@]} -eq 0 ] && exit 0

echo "system packages: missing ${missing[*]}" >&2
printf '  %s\n' "${reasons[@]}" >&2
command_line="apt-get install -y --no-install-recommends ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system packages: this is not a Debian/Ubuntu machine (no apt-get); install the equivalents of the packages" \
    "above with your package manager, then run the tests again." >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo)
else
  echo "system packages: cannot install them without a password. Run this, then the tests again:" >&2
  echo "  sudo apt-get update && sudo $command_line" >&2
  exit 1
fi
if [ -n "${BERTFT_APT_DRY_RUN:-}" ]; then
  echo "system packages: would run: ${sudo[*]} $command_line" >&2
  exit 1
fi
echo "system packages: installing them with apt-get" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" || {
  echo "system packages: apt-get failed (above). Run this, then the tests again:" >&2
  echo "  sudo apt-get update && sudo $command_line" >&2
  exit 1
}
