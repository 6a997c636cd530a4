#!/usr/bin/env bash
# Sets everything up (idempotent) and starts Visage: the desktop window when there is a screen, else the text chat.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/visage run "$@"
