#!/usr/bin/env bash
# Sets everything up (idempotent) and runs the whole test suite: lint, then every test, the real models included.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh tests/store -x`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check .
.venv/bin/lint-imports --no-logo --no-cache  # the import layers in .importlinter
exec .venv/bin/python -m pytest "$@"
