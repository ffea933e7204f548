#!/usr/bin/env bash
# The one command that runs the tests on a fresh Debian/Ubuntu machine, as root or as a user
# with sudo: installs the programs the tests talk to (only those missing), the npm packages
# from the lock file, then runs `npm test`. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
npm ci --no-audit --no-fund
npm test
