#!/usr/bin/env bash
# The browser tests drive Debian's Chromium with Playwright. Install it if it is missing.
set -euo pipefail
for c in chromium chromium-browser; do
  if command -v "$c" >/dev/null 2>&1; then exit 0; fi
done
echo "Chromium is needed for the browser tests; installing Debian's chromium package…" >&2
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO=""; fi
if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ -n "$SUDO" ]; }; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "Could not install Chromium automatically. Install it (Debian/Ubuntu: sudo apt-get install chromium)," >&2
echo "or run the tests without the browser journeys: KLEROTERION_SKIP_BROWSER=1 make test" >&2
exit 1
