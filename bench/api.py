"""The local OpenAI-compatible API (app/api): first-token overhead against calling the engine directly, and
transcription / speech throughput through the API.

First token: the same request (temperature 0, so the prompt is read afresh each time and both paths do the same
work) through the official `openai` client with ``stream=True`` against the engine's own ``generate`` drained on
its worker, interleaved, ``--runs`` each; overhead = median(API) - median(direct) (target: <= 15 ms).
Throughput: seconds of audio per wall-clock second for ``/audio/transcriptions`` (a Piper recording) and
``/audio/speech`` (wav and mp3). JSON to bench/results/api.json.

    python bench/api.py [--model smollm2-135m] [--runs 15]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import cpu_model, write_report

QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]
SPEECH = ("Visage runs on this computer. It listens, thinks and answers aloud, and now other programs can use "
          "the same models through a local API.")


def direct_first_token(runner, host, messages) -> float:  # type: ignore[no-untyped-def]
    """Timed inside a loop that is already running (as the API's is), from the call to the first piece."""
    from engines.base import ChatMessage
    from engines.llm.generation import GenerationOptions

    async def once() -> float:
        llm, worker = await host.engine("llm")
        started = time.perf_counter()
        async for _piece in worker.iterate(llm.generate, [ChatMessage("user", m["content"]) for m in messages],
                                           options=GenerationOptions(max_tokens=8, temperature=0.0),
                                           cancel=__import__("threading").Event()):
            return time.perf_counter() - started
        raise RuntimeError("no token")

    return runner.submit(once()).result()


def api_first_token(client, model: str) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    stream = client.chat.completions.create(model=model, messages=QUESTION, temperature=0, max_tokens=8, stream=True)
    try:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                return time.perf_counter() - started
    finally:
        stream.close()
    raise RuntimeError("no token")


def seconds_of(data: bytes) -> float:
    import av

    with av.open(io.BytesIO(data)) as container:
        rate = container.streams.audio[0].rate
        return sum(f.samples for f in container.decode(audio=0)) / rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "api.json"))
    args = parser.parse_args()

    import openai

    from app.api.host import OwnEngines
    from app.api.server import ApiServer
    from app.core.assembly import build_engines
    from app.core.config import LLMSettings, Settings
    from app.core.runner import CoreRunner

    settings = Settings(llm=LLMSettings(model=args.model))
    engines = build_engines(settings, roles=("llm", "asr", "tts"))
    host = OwnEngines(engines, settings)
    with ApiServer(host, port=0) as server:
        client = openai.OpenAI(base_url=server.url, api_key="bench", max_retries=0)
        api_first_token(client, args.model)  # warm up both paths
        runner = CoreRunner()
        direct_first_token(runner, host, QUESTION)
        direct, api = [], []
        for _ in range(args.runs):
            direct.append(direct_first_token(runner, host, QUESTION))
            api.append(api_first_token(client, args.model))

        speech = {}
        recording = b""
        for fmt in ("wav", "mp3"):
            started = time.perf_counter()
            data = client.audio.speech.create(model="tts-1", voice="alloy", input=SPEECH, response_format=fmt).read()
            wall = time.perf_counter() - started
            audio_s = seconds_of(data)
            speech[fmt] = {"audio_s": round(audio_s, 2), "wall_s": round(wall, 3),
                           "x_realtime": round(audio_s / wall, 1)}
            recording = data if fmt == "wav" else recording
        audio_s = seconds_of(recording)
        transcription = {}
        for fmt in ("json", "verbose_json"):
            started = time.perf_counter()
            client.audio.transcriptions.create(model="whisper-1", file=("speech.wav", recording), response_format=fmt)
            wall = time.perf_counter() - started
            transcription[fmt] = {"audio_s": round(audio_s, 2), "wall_s": round(wall, 3),
                                  "x_realtime": round(audio_s / wall, 1)}
        runner.stop()
    host.close()

    def ms(values: list[float]) -> dict[str, float]:
        ordered = sorted(values)
        return {"median_ms": round(statistics.median(values) * 1000, 1),
                "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
                "min_ms": round(ordered[0] * 1000, 1)}

    report = {
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},
        "model": args.model, "runs": args.runs,
        "first_token": {"direct": ms(direct), "api_stream": ms(api),
                        "overhead_ms": round((statistics.median(api) - statistics.median(direct)) * 1000, 1),
                        "target_overhead_ms": 15},
        "speech": speech, "transcription": transcription,
    }
    write_report(report, args.out)


if __name__ == "__main__":
    main()
