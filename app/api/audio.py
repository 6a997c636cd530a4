"""Audio for the API: transcripts in OpenAI's formats, and speech encoded with PyAV (FFmpeg).

Transcripts: json, text, srt, vtt, verbose_json (segment times). Speech: wav, mp3, opus (Ogg), aac
(ADTS), flac and pcm (raw 16-bit little-endian), all mono at 24 kHz like OpenAI's; ``speed`` is
FFmpeg's ``atempo`` filter (the pitch stays), so it works with any voice engine.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from engines.base import AudioChunk, TranscriptResult

RATE = 24_000
#: response_format -> (container, codec)
FORMATS = {"wav": ("wav", "pcm_s16le"), "mp3": ("mp3", "libmp3lame"), "opus": ("ogg", "libopus"),
           "aac": ("adts", "aac"), "flac": ("flac", "flac"), "pcm": ("s16le", "pcm_s16le")}
MEDIA_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "opus": "audio/ogg", "aac": "audio/aac",
               "flac": "audio/flac", "pcm": "audio/pcm"}
TRANSCRIPT_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")


def _stamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def srt(result: TranscriptResult) -> str:
    blocks = [f"{i}\n{_stamp(a, ',')} --> {_stamp(b, ',')}\n{text}\n"
              for i, (a, b, text) in enumerate((s for s in result.segments if s[2]), start=1)]
    return "\n".join(blocks)


def vtt(result: TranscriptResult) -> str:
    blocks = [f"{_stamp(a, '.')} --> {_stamp(b, '.')}\n{text}\n" for a, b, text in result.segments if text]
    return "WEBVTT\n\n" + "\n".join(blocks)


def verbose(result: TranscriptResult, duration_s: float) -> dict[str, Any]:
    segments = [{"id": i, "seek": 0, "start": a, "end": b, "text": text, "tokens": [], "temperature": 0.0,
                 "avg_logprob": 0.0, "compression_ratio": 0.0, "no_speech_prob": 0.0}
                for i, (a, b, text) in enumerate(result.segments)]
    return {"task": "transcribe", "language": result.language or "", "duration": round(duration_s, 3),
            "text": result.text, "segments": segments}


def _tempo_chain(speed: float) -> list[float]:
    """atempo factors (each within FFmpeg's 0.5-2.0) whose product is ``speed``."""
    factors = []
    while speed > 2.0:
        factors.append(2.0)
        speed /= 2.0
    while speed < 0.5:
        factors.append(0.5)
        speed /= 0.5
    return [*factors, speed]


def _frames(chunks: list[AudioChunk], speed: float) -> list[Any]:
    """The speech as float frames at RATE, time-stretched by ``speed``."""
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    frames: list[Any] = []
    for chunk in chunks:
        pcm = np.ascontiguousarray(chunk.pcm, dtype=np.float32).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="flt", layout="mono")
        frame.sample_rate = chunk.sample_rate
        frames.extend(resampler.resample(frame))
    frames.extend(resampler.resample(None))
    if abs(speed - 1.0) < 1e-6 or not frames:
        return frames
    graph = av.filter.Graph()
    node = graph.add_abuffer(format="flt", sample_rate=RATE, layout="mono", time_base=f"1/{RATE}")
    source = node
    for factor in _tempo_chain(speed):
        nxt = graph.add("atempo", f"{factor:.6f}")
        node.link_to(nxt)
        node = nxt
    sink = graph.add("abuffersink")
    node.link_to(sink)
    graph.configure()
    out: list[Any] = []
    pts = 0
    for frame in frames:
        frame.pts = pts
        pts += frame.samples
        source.push(frame)
        out.extend(_pull(sink))
    source.push(None)
    out.extend(_pull(sink))
    return out


def _pull(sink: Any) -> list[Any]:
    import av

    got = []
    while True:
        try:
            got.append(sink.pull())
        except (av.error.BlockingIOError, av.error.EOFError):
            return got


def encode(chunks: list[AudioChunk], fmt: str, speed: float = 1.0) -> bytes:
    """The speech in ``fmt`` (one of FORMATS), mono at 24 kHz."""
    import av

    frames = _frames(chunks, speed)
    if fmt == "pcm":
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in frames]) if frames else np.zeros(0, np.float32)
        return (np.clip(pcm, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    container_format, codec = FORMATS[fmt]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=RATE, layout="mono")
        ctx = stream.codec_context
        resampler = av.AudioResampler(format=ctx.format.name, layout="mono", rate=RATE,
                                      frame_size=ctx.frame_size or None)
        pts = 0
        for frame in [*frames, None]:
            for out in resampler.resample(frame):
                out.pts = pts
                pts += out.samples
                container.mux(stream.encode(out))
        container.mux(stream.encode(None))
    return buffer.getvalue()
