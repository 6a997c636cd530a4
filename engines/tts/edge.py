"""Online speech with edge-tts (Microsoft Edge's read-aloud voices). Needs the network.

Each sentence is one request; the MP3 it returns is decoded with PyAV to float32 mono at 24 kHz.
Word boundaries become :class:`PhonemeTiming` entries whose symbol is the WORD
(``timing_source="word-boundary"``): the avatar can open the mouth per word, not per phoneme.

Offline, edge-tts fails within milliseconds (DNS error); a network that drops mid-way hangs
instead, so every request is bounded by ``[tts] edge_timeout_s``. Either way :class:`NetworkError` is
raised. This engine never falls back by itself: the pipeline decides (and tells the user).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import math
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

from engines.base import AudioChunk, EngineInfo, PhonemeTiming
from engines.errors import EngineError, NetworkError
from engines.files import write_text_atomic
from engines.tts.text import split_sentences

log = logging.getLogger(__name__)

SAMPLE_RATE = 24000
_TICKS_PER_SECOND = 10_000_000  # edge-tts offsets are in 100-ns ticks
OFFLINE_HINT = "Visage speaks with the offline Piper voice until the network is back ([tts] engine = \"piper\")."


class EdgeOptions(Protocol):
    """The ``[tts]`` settings this adapter reads (the app's ``TTSSettings`` has them and is passed as is)."""

    edge_voice: str
    edge_timeout_s: float


def decode_mp3(data: bytes, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Decode MP3 bytes to mono float32 PCM at ``sample_rate`` (PyAV). Raises EngineError on bad data."""
    import av

    pieces: list[np.ndarray] = []
    try:
        with av.open(io.BytesIO(data), mode="r", format="mp3") as container:
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            for frame in container.decode(audio=0):
                pieces.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
            pieces.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    except (av.error.FFmpegError, ValueError) as err:
        raise EngineError(
            f"The speech service sent audio that cannot be decoded ({err}).",
            hint='Try again, or switch to the offline voice with [tts] engine = "piper".',
        ) from err
    if not pieces:
        raise EngineError(
            "The speech service sent no decodable audio.",
            hint='Try again, or switch to the offline voice with [tts] engine = "piper".',
        )
    return np.concatenate(pieces).astype(np.float32, copy=False)


class EdgeTTS:
    """edge-tts voice ``[tts] edge_voice``; one request and one chunk per sentence."""

    sample_rate: int = SAMPLE_RATE

    def __init__(self, settings: EdgeOptions) -> None:
        import av  # noqa: F401  - fail at load time, not mid-sentence, when PyAV is missing
        import edge_tts  # noqa: F401

        self.settings = settings

    def synthesize(self, text: str, *, cancel: threading.Event | None = None) -> Iterator[AudioChunk]:
        """One chunk per sentence; raises NetworkError when the service cannot be reached in time."""
        for sentence in split_sentences(text):
            if cancel is not None and cancel.is_set():
                return
            mp3, words = self._fetch(sentence)
            if cancel is not None and cancel.is_set():
                return
            yield AudioChunk(
                pcm=decode_mp3(mp3, self.sample_rate),
                sample_rate=self.sample_rate,
                text=sentence,
                phonemes=tuple(words),
                timing_source="word-boundary",
            )

    def _fetch(self, sentence: str) -> tuple[bytes, list[PhonemeTiming]]:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise EngineError(
                "EdgeTTS.synthesize was called on a thread that runs an asyncio loop.",
                hint="Call engines from their worker thread (see ARCHITECTURE.md, Threads).",
            )
        timeout = self.settings.edge_timeout_s
        try:
            return asyncio.run(asyncio.wait_for(self._request(sentence, timeout), timeout))
        except TimeoutError as err:
            raise NetworkError(
                f"The online voice did not answer within {timeout:g} s.", hint=OFFLINE_HINT
            ) from err
        except NetworkError:
            raise
        except Exception as err:
            if _is_network_error(err):
                raise NetworkError(
                    f"The online voice (edge-tts) cannot be reached: {type(err).__name__}: {err}",
                    hint=OFFLINE_HINT,
                ) from err
            raise

    async def _request(self, sentence: str, timeout: float) -> tuple[bytes, list[PhonemeTiming]]:
        import edge_tts

        seconds = max(1, math.ceil(timeout))
        communicate = edge_tts.Communicate(
            sentence,
            self.settings.edge_voice,
            boundary="WordBoundary",
            connect_timeout=seconds,
            receive_timeout=seconds,
        )
        audio = bytearray()
        words: list[PhonemeTiming] = []
        async for message in communicate.stream():
            if message["type"] == "audio":
                audio.extend(message.get("data", b""))
            elif message["type"] == "WordBoundary":
                words.append(
                    PhonemeTiming(
                        phoneme=str(message.get("text", "")),
                        start=float(message.get("offset", 0)) / _TICKS_PER_SECOND,
                        duration=float(message.get("duration", 0)) / _TICKS_PER_SECOND,
                    )
                )
        return bytes(audio), words

    def info(self) -> EngineInfo:
        return EngineInfo(
            role="tts",
            name="edge-tts",
            model=self.settings.edge_voice,
            model_path=None,
            version=f"edge-tts {metadata.version('edge-tts')}",
            device="cloud",
            device_reason="edge-tts synthesizes on Microsoft's servers (needs the network)",
            details={"timeout_s": str(self.settings.edge_timeout_s), "sample_rate": str(self.sample_rate)},
        )


def _is_network_error(err: BaseException) -> bool:
    import aiohttp
    import edge_tts.exceptions

    return isinstance(err, OSError | aiohttp.ClientError | edge_tts.exceptions.EdgeTTSException)


# ---- the voice list (Settings > Voice) ----

VOICE_LIST_HINT = (
    "Check the internet connection and try again, type a voice name such as en-US-AriaNeural, "
    'or use the offline Piper voice ([tts] engine = "piper").'
)


@dataclass(frozen=True, slots=True)
class EdgeVoice:
    name: str  # the ShortName edge-tts takes, e.g. "en-GB-SoniaNeural"
    locale: str
    gender: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.gender}, {self.locale})"


def list_voices(timeout_s: float = 10.0) -> list[EdgeVoice]:
    """Every online voice, sorted by locale and name. NetworkError (with what to do) when offline.

    Blocks up to ``timeout_s``: call it from a worker thread (not one that runs an asyncio loop).
    """
    import edge_tts

    async def fetch() -> list[dict[str, object]]:
        return await asyncio.wait_for(edge_tts.list_voices(), timeout_s)  # type: ignore[return-value]

    try:
        data = asyncio.run(fetch())
    except TimeoutError as err:
        raise NetworkError(f"The online voice list did not come within {timeout_s:g} s.",
                           hint=VOICE_LIST_HINT) from err
    except Exception as err:
        if _is_network_error(err):
            raise NetworkError(f"Cannot load the online voices: {type(err).__name__}: {err}",
                               hint=VOICE_LIST_HINT) from err
        raise
    voices = [
        EdgeVoice(str(v["ShortName"]), str(v.get("Locale", "")), str(v.get("Gender", "")))
        for v in data
        if isinstance(v, dict) and v.get("ShortName")
    ]
    if not voices:
        raise NetworkError("The online voice service sent an empty voice list.", hint=VOICE_LIST_HINT)
    return sorted(voices, key=lambda v: (v.locale, v.name))


def save_voice_list(path: Path, voices: list[EdgeVoice]) -> None:
    """Keep the last list on disk, so Settings can offer it offline too."""
    write_text_atomic(path, json.dumps([asdict(v) for v in voices], indent=0))


def load_voice_list(path: Path) -> list[EdgeVoice]:
    """The list saved by :func:`save_voice_list`; empty if there is none or it is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [EdgeVoice(str(v["name"]), str(v["locale"]), str(v["gender"])) for v in data]
    except (OSError, ValueError, KeyError, TypeError):
        return []
