#!/usr/bin/env bash
# Build gymie-client and run its tests against a real gymie server.
# Needs Node >= 20 and npm; fails (never skips) without them. The server runs on
# $GYMIE_PYTHON (default: <repo>/.venv/bin/python, which ./run_tests.sh creates).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "clients/js: Node.js >= 20 and npm are required to test the JavaScript client (apt-get install nodejs npm)" >&2
  exit 1
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  echo "clients/js: Node.js >= 20 is required, found $(node --version)" >&2
  exit 1
fi

if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi
npm test
