"""Conversation quality, per shipped model: spoken questions in voices that are not Visage's own, through the real
voice pipeline (VAD -> end-of-turn -> ASR -> LLM -> reply guard -> TTS), scored as a user would notice:

- right answers: the reply holds one of the expected words (bench/data/conversation_questions.toml, written for
  this bench: 30 easy facts and 12 everyday requests, not tuned on);
- word error rate of the transcript, per voice (espeak-ng accents, jiwer);
- looping replies: a sentence said twice in one reply, or a spoken reply over 30 s;
- cut-offs: utterances with a pause spliced in mid-sentence that were answered as two turns: the first
  ``--paused`` questions with 0.6 s in the middle (their prefixes were used to set the LLM's sentence-end
  threshold), and 12 held-out ones (bench/data/paused_questions.toml, 0.5-0.8 s, written afterwards).

    .venv/bin/python bench/conversation_quality.py [--models qwen2.5-coder-1.5b,qwen2.5-coder-0.5b,smollm2-135m]
        [--limit N] [--out bench/results/conversation_quality.json]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import sys
import time
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
from _common import NoHistory, cpu_model, write_report  # bench/_common.py (run as a script: bench/ is on the path)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.assembly import build_engines
from app.core.audio_io import ASR_RATE, FileAudioSink, FileAudioSource
from app.core.config import Settings
from app.core.pipeline import Engines, Pipeline
from tests.speech_corpus import ESPEAK_VOICES, espeak, paused_espeak

QUESTIONS = Path(__file__).parent / "data" / "conversation_questions.toml"
PAUSED = Path(__file__).parent / "data" / "paused_questions.toml"
#: the voices questions rotate through (name, words per minute, pitch)
VOICES = ESPEAK_VOICES[:4]
_WORD = re.compile(r"[\w'.-]+")



def normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.lower().replace("-", " "))).replace(".", "")


def right(reply: str, expect: list[str]) -> bool:
    words = f" {normalise(reply)} "
    return any(f" {normalise(e)} " in words for e in expect)


def looped(reply: str, audio_s: float) -> bool:
    sentences = [normalise(s) for s in re.split(r"(?<=[.!?])\s+", reply) if normalise(s)]
    return len(sentences) != len(set(sentences)) or audio_s > 30.0


def voice_turns(engines: Engines, settings: Settings, audio: np.ndarray) -> tuple[list[Any], float]:
    sink = FileAudioSink()
    pipeline = Pipeline(engines, settings, NoHistory(), sink=sink)
    lead = np.zeros(int(0.3 * ASR_RATE), np.float32)
    source = FileAudioSource.from_array(np.concatenate([lead, audio, np.zeros(int(1.5 * ASR_RATE), np.float32)]))
    results = asyncio.run(pipeline.listen(source, barge_in=False))
    pipeline.close()
    return results, len(sink.audio) / (sink.sample_rate or 1)


def split_question(text: str) -> tuple[str, str]:
    words = text.split()
    middle = max(2, len(words) // 2)
    return " ".join(words[:middle]), " ".join(words[middle:])


def run_model(model: str, questions: list[dict[str, Any]], paused: int) -> dict[str, Any]:
    settings = Settings()
    settings.llm.model = model
    engines = build_engines(settings)
    rows, wer_by_voice, truth_by_voice = [], defaultdict(list), defaultdict(list)
    started = time.monotonic()
    for i, q in enumerate(questions):
        voice, speed, pitch = VOICES[i % len(VOICES)]
        results, audio_s = voice_turns(engines, settings, espeak(q["text"], voice, speed, pitch))
        transcript = " ".join(r.user_text for r in results)
        reply = " ".join(r.reply_text for r in results)
        ok = right(reply, q["expect"])
        wer_by_voice[voice].append(normalise(transcript))
        truth_by_voice[voice].append(normalise(q["text"]))
        rows.append({"question": q["text"], "voice": voice, "kind": q["kind"], "transcript": transcript,
                     "reply": reply, "right": ok, "looped": looped(reply, audio_s), "turns": len(results),
                     "reply_audio_s": round(audio_s, 2)})
        print(f"{model:20s} {'ok ' if ok else 'MISS'} [{voice}] {q['text']} -> {reply[:90]!r}", flush=True)
    cutoffs = []
    spliced = [(*split_question(q["text"]), 0.6, "bench questions") for q in questions[:paused]]
    held_out = [(p["before"], p["after"], p["pause_s"], "held out") for p in tomllib.loads(PAUSED.read_text())["p"]]
    for i, (before, after, pause_s, origin) in enumerate(spliced + held_out):
        voice, speed, pitch = VOICES[(i + 1) % len(VOICES)]
        results, _ = voice_turns(engines, settings, paused_espeak(before, after, pause_s, voice, speed, pitch))
        cutoffs.append({"question": f"{before} {after}", "pause_after": before, "pause_s": pause_s, "set": origin,
                        "voice": voice, "turns": len(results), "transcripts": [r.user_text for r in results]})
        print(f"{model:20s} {'one turn' if len(results) == 1 else 'CUT':8s} [{voice}] {before} | {after}", flush=True)
    facts = [r for r in rows if r["kind"] == "fact"]
    requests = [r for r in rows if r["kind"] == "request"]
    return {
        "model": model,
        "seconds": round(time.monotonic() - started, 1),
        "right": sum(r["right"] for r in rows), "asked": len(rows),
        "right_share": round(sum(r["right"] for r in rows) / max(1, len(rows)), 3),
        "facts_right": f"{sum(r['right'] for r in facts)}/{len(facts)}",
        "requests_on_topic": f"{sum(r['right'] for r in requests)}/{len(requests)}",
        "looping_replies": sum(r["looped"] for r in rows),
        "cut_offs": sum(c["turns"] != 1 for c in cutoffs), "paused_questions": len(cutoffs),
        "cut_offs_held_out": sum(c["turns"] != 1 for c in cutoffs if c["set"] == "held out"),
        "wer_by_voice": {v: round(jiwer.wer(truth_by_voice[v], wer_by_voice[v]), 3) for v in wer_by_voice},
        "misses": [r for r in rows if not r["right"]],
        "cut_off_detail": [c for c in cutoffs if c["turns"] != 1],
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="qwen2.5-coder-1.5b,qwen2.5-coder-0.5b,smollm2-135m")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions (0 = all)")
    parser.add_argument("--paused", type=int, default=10, help="how many questions are also asked with a pause")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "conversation_quality.json"))
    args = parser.parse_args()
    questions = tomllib.loads(QUESTIONS.read_text())["q"]
    if args.limit:
        questions = questions[: args.limit]
    report: dict[str, Any] = {
        "benchmark": "conversation_quality",
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(), "gpu": "none"},
        "asr": Settings().asr.model, "end_of_turn": Settings().vad.end_of_turn,
        "voices": [v[0] for v in VOICES], "models": [],
    }
    for model in args.models.split(","):
        report["models"].append(run_model(model, questions, args.paused))
        report["machine"]["load_average_1m"] = round(os.getloadavg()[0], 2)
        write_report(report, args.out)  # after each model: a long run keeps what it measured


if __name__ == "__main__":
    main()
