#!/usr/bin/env bash
# Smoke test of the built bundle (bash scripts/build_bundle.sh first). Offscreen, no sound card needed.
#
#     bash scripts/smoke_bundle.sh [dist/visage/visage]     # results in build/smoke/ (summary.txt, window.png)
#
# Runs the bundle with an EMPTY models folder and fresh data/config folders, so only what is inside the
# bundle is used: --version, doctor, a text turn, a voice turn from a WAV file, and the window opened,
# answering one message and grabbed as a screenshot. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
BUNDLE="$(realpath "${1:-dist/visage/visage}")"
OUT="$ROOT/build/smoke"
[ -x "$BUNDLE" ] || { echo "No bundle at $BUNDLE: run bash scripts/build_bundle.sh first." >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
export VISAGE_DATA_DIR="$TMP/data" VISAGE_CONFIG_DIR="$TMP/config" VISAGE_MODELS_DIR="$TMP/models"
export QT_QPA_PLATFORM=offscreen
unset VIRTUAL_ENV PYTHONPATH PYTHONHOME
cd "$TMP"  # not the source tree: nothing can be imported from it by accident
summary() { echo "$*" | tee -a "$OUT/summary.txt"; }
step() { local name="$1"; shift; local t0; t0=$(date +%s.%N)
  if "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"; then
    summary "PASS $name ($(echo "$(date +%s.%N) - $t0" | bc | xargs printf '%.1f') s)"
  else summary "FAIL $name (exit $?): see $OUT/$name.err"; tail -5 "$OUT/$name.err" >&2; exit 1; fi; }

step version "$BUNDLE" --version
grep -q "visage, version" "$OUT/version.out"
step doctor "$BUNDLE" doctor
grep -E "(model:|compute)" -A4 "$OUT/doctor.out" | head -20 > "$OUT/doctor-models.txt" || true
step chat "$BUNDLE" chat "What is the capital of France? Answer in one sentence."
[ -s "$OUT/chat.out" ] || { summary "FAIL chat: empty reply"; exit 1; }
summary "     reply: $(tr '\n' ' ' < "$OUT/chat.out" | cut -c1-160)"

# the question WAV is made with the project's own Piper (a test fixture, not part of the bundle)
"$ROOT/.venv/bin/python" - "$OUT/question.wav" "$ROOT" <<'PY'
import sys, wave
sys.path.insert(0, sys.argv[2])
import numpy as np
from tests.audio_helpers import speak_with_piper
pcm = speak_with_piper("What is the capital of France?")
pcm = np.concatenate([np.zeros(8000, np.float32), pcm, np.zeros(16000, np.float32)])
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
    w.writeframes((np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes())
PY
step talk "$BUNDLE" talk --input "$OUT/question.wav" --output "$OUT/reply.wav" --json
[ -s "$OUT/reply.wav" ] || { summary "FAIL talk: no reply audio"; exit 1; }
summary "     $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("heard:", repr(d.get("transcript")), "| first audio after", d.get("timings",{}).get("first_audio_s"), "s")' "$OUT/talk.out" 2>/dev/null || head -c 200 "$OUT/talk.out")"

mkdir -p "$VISAGE_CONFIG_DIR"
printf '[ui]\nfirst_run_done = true\n' > "$VISAGE_CONFIG_DIR/config.toml"
VISAGE_AUTORUN="$OUT/window.json" VISAGE_AUTORUN_SAY="Hello! Who are you?" \
VISAGE_AUTORUN_SCREENSHOT="$OUT/window.png" VISAGE_AUTORUN_TIMEOUT=180 step window "$BUNDLE" run
python3 - "$OUT/window.json" <<'PY' | tee -a "$OUT/summary.txt"
import json, sys
d = json.load(open(sys.argv[1]))
assert d.get("end") == "reply", d
print(f"     window: reply {d['reply'][:100]!r}; screenshot {d['screenshot']}")
PY
[ -s "$OUT/window.png" ] || { summary "FAIL window: no screenshot"; exit 1; }
summary "all bundle smoke steps passed ($(du -sh "$(dirname "$BUNDLE")" | cut -f1) bundle)"
