#!/usr/bin/env bash
# Chromium from Debian's packages, for the documentation site's browser test. Sourced by
# .ci/run: installs it if absent.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
    echo "installing Chromium from Debian's packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "$(chromium --version 2>/dev/null || echo 'chromium: not found')"
