#!/usr/bin/env bash
# The accessibility checks (tests/e2e/test_accessibility.py) run axe-core, the field's standard
# accessibility engine, inside Chromium. It comes from npm at the exact version pinned in
# tests/e2e/axe-core/package.json and package-lock.json (npm ci checks its hash). Installs Node.js
# and npm from Debian if they are missing, as scripts/ensure-chromium.sh does for Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=tests/e2e/axe-core
want=$(sed -n 's/.*"axe-core": *"\([^"]*\)".*/\1/p' "$DIR/package.json" | head -1)
have=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$DIR/node_modules/axe-core/package.json" 2>/dev/null | head -1 || true)
if [ -n "$want" ] && [ "$have" = "$want" ] && [ -s "$DIR/node_modules/axe-core/axe.min.js" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is needed to fetch axe-core for the accessibility checks; installing Debian's nodejs and npm…" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO=""; fi
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ -n "$SUDO" ]; }; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "Could not install npm automatically. Install it (Debian/Ubuntu: sudo apt-get install nodejs npm)," >&2
    echo "or run the tests without the browser journeys: KLEROTERION_SKIP_BROWSER=1 make test" >&2
    exit 1
  fi
fi
echo "Installing axe-core $want for the accessibility checks (npm ci in $DIR)…" >&2
npm ci --prefix "$DIR" --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
test -s "$DIR/node_modules/axe-core/axe.min.js"
