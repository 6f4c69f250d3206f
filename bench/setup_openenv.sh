#!/usr/bin/env bash
# Make bench/.venv-openenv: OpenEnv 0.10 from PyPI (the living peer) with Gymnasium and ale-py, for
# bench/peer_openenv.py (its server and its client both run here). Idempotent: does nothing when the
# venv already imports all of it. Exits non-zero (and bench/run.py shows the OpenEnv column as
# "n/a (setup failed: ...)") when it cannot be made.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=$PWD/.venv-openenv
export PIP_DISABLE_PIP_VERSION_CHECK=1
trap 'echo "failed (exit $?): $BASH_COMMAND" >&2' ERR

check() {
  (cd / && "$VENV/bin/python" -c '
from importlib.metadata import version
import openenv.core, openenv.core.env_server.http_server, uvicorn, gymnasium, ale_py
assert version("openenv").startswith("0.10."), version("openenv")
' 2>/dev/null)
}

if [ -x "$VENV/bin/python" ] && check; then
  exit 0
fi
echo "setting up $VENV (openenv 0.10 + gymnasium + ale-py)" >&2
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q 'openenv==0.10.*' 'gymnasium>=1.0,<2' 'ale-py>=0.9'
check || { echo "$VENV is incomplete" >&2; exit 1; }
