#!/usr/bin/env bash
# Installs what the tests need (a venv for gymie with Gymnasium + NumPy 2, and a second one for
# legacy gym 0.26, which needs numpy<2), lints, and runs the whole suite.
# Usage: ./run_tests.sh [pytest args]   (GYMIE_SKIP_INSTALL=1 skips the pip steps)
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=${GYMIE_VENV:-.venv}
LEGACY_VENV=${GYMIE_LEGACY_VENV:-.venv-gym026}
export PIP_DISABLE_PIP_VERSION_CHECK=1

step() { printf '\n== %s\n' "$*"; }
# need COMMAND DEBIAN_PACKAGE...: install the packages with apt when COMMAND is missing (as root, or with sudo).
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  step "installing ${*:2} (apt)"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${@:2}" >/dev/null
}

if [ ! -x "$VENV/bin/python" ]; then
  step "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
if [ ! -x "$LEGACY_VENV/bin/python" ]; then
  step "creating $LEGACY_VENV (legacy gym 0.26 needs numpy<2)"
  "$PYTHON" -m venv "$LEGACY_VENV"
fi
if [ "${GYMIE_SKIP_INSTALL:-0}" != 1 ]; then
  step "installing gymie with its test, atari, retro and ray extras"
  "$VENV/bin/pip" install -q -e '.[test,atari,retro,ray]'
  # gymnasium[classic-control] brings pygame-ce; a venv whose test extra once installed pygame has
  # both, sharing one `pygame` folder: keep pygame-ce alone.
  if "$VENV/bin/pip" show -q pygame >/dev/null 2>&1 && "$VENV/bin/pip" show -q pygame-ce >/dev/null 2>&1; then
    "$VENV/bin/pip" uninstall -y -q pygame
    "$VENV/bin/pip" install -q --force-reinstall --no-deps pygame-ce
  fi
  step "installing torch (the 2.13.0 CPU build, first: a bare torch pulls CUDA) and stable-baselines3"
  "$VENV/bin/pip" install -q 'torch==2.13.0'
  "$VENV/bin/pip" install -q 'stable-baselines3>=2.3'
  step "installing gymie + gym 0.26.2 + numpy<2 in $LEGACY_VENV"
  "$LEGACY_VENV/bin/pip" install -q -e . 'gym==0.26.2' 'numpy<2' pytest pytest-timeout
fi

# OS packages the tests drive: nginx (tests/test_proxy_nginx.py runs deploy/nginx/gymie.conf; Debian
# puts it in /usr/sbin, which a non-root PATH may lack), Node.js (clients/js) and Chromium
# (tests/test_dashboard_browser.py drives /usr/bin/chromium with Playwright, which comes with the
# test extra and never downloads a browser). Each test fails loudly without its program; these
# lines install it when missing.
[ -x /usr/sbin/nginx ] || need nginx nginx
need node nodejs npm
need npm npm
[ -x /usr/bin/chromium ] || need chromium chromium

step "ruff"
"$VENV/bin/ruff" check gymie tests bench examples scripts setup.py
step "mypy (strict, gymie/)"
"$VENV/bin/mypy"

step "pytest (gymie, Gymnasium $("$VENV/bin/python" -c 'import gymnasium; print(gymnasium.__version__)'))"
"$VENV/bin/python" -m pytest "$@"

step "pytest (legacy gym 0.26 backend)"
"$LEGACY_VENV/bin/python" -m pytest tests/legacy_gym -q

step "JavaScript client (clients/js, node --test against real servers)"
GYMIE_PYTHON="$PWD/$VENV/bin/python" clients/js/run-tests.sh
