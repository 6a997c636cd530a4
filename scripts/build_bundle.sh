#!/usr/bin/env bash
# Build the one-folder desktop bundle: dist/visage/ (run dist/visage/visage), with the embedded models.
#
#     bash scripts/build_bundle.sh            # setup if needed, icons, pyinstaller packaging/visage.spec
#
# Needs the project's .venv (scripts/setup.sh) and the prepared models (`visage setup-models`).
# Installs the optional `package` dependency group (PyInstaller) into .venv the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PY="$ROOT/.venv/bin/python"
if [ ! -x "$PY" ]; then
  bash scripts/setup.sh
fi
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
  echo "Installing PyInstaller (optional dependency group 'package')…"
  "$PY" -m pip install --quiet --disable-pip-version-check -e ".[package]" >>"$ROOT/.venv/pip.log" 2>&1 \
    || { tail -20 "$ROOT/.venv/pip.log"; exit 1; }
fi
"$PY" -m app setup-models
"$PY" packaging/make_icons.py
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" packaging/visage.spec
echo "Built $ROOT/dist/visage/visage ($(du -sh "$ROOT/dist/visage" | cut -f1))"
echo "Smoke test: bash scripts/smoke_bundle.sh   Desktop entry: packaging/visage.desktop"
