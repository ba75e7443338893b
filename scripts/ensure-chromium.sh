#!/usr/bin/env bash
# Installs Debian's chromium for the headless-browser tests when it is missing.
# Needs root (or sudo). If it cannot be installed, the browser tests say so and skip.
set -u
if command -v chromium >/dev/null 2>&1; then exit 0; fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "chromium missing and not root: browser tests will be skipped" >&2; exit 0; fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null 2>&1 || true
$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null 2>&1 \
  || echo "could not install chromium: browser tests will be skipped" >&2
exit 0
