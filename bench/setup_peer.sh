#!/usr/bin/env bash
# Make bench/.venv-gymie054: the PyPI gymie 0.5.4 (the peer) with gym 0.25.2 and numpy<2.
# 0.5.4 pins eventlet==0.28.0 and gym==0.17.3, which do not install on today's Python; so gymie
# goes in with --no-deps and its imports by hand: gym 0.25.2 (CartPole), today's eventlet (the same
# one the current gymie runs on), and ale-py + Gymnasium for Pong through 0.5.4's get_env override.
# Idempotent: does nothing when the venv already imports all of it.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=$PWD/.venv-gymie054
export PIP_DISABLE_PIP_VERSION_CHECK=1

check() {
  (cd / && "$VENV/bin/python" -c '
import gymie, gym, numpy, eventlet, ale_py, gymnasium
assert gymie.__version__ == "0.5.4", gymie.__version__
assert gym.__version__ == "0.25.2", gym.__version__
assert int(numpy.__version__.split(".")[0]) < 2, numpy.__version__
' 2>/dev/null)
}

if [ -x "$VENV/bin/python" ] && check; then
  exit 0
fi
echo "setting up $VENV (gymie 0.5.4 + gym 0.25.2 + numpy<2)" >&2
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --no-deps 'gymie==0.5.4'
"$VENV/bin/pip" install -q 'gym==0.25.2' 'numpy<2' eventlet 'ale-py==0.12.1' 'gymnasium>=1.0,<2'
check || { echo "$VENV is incomplete" >&2; exit 1; }
