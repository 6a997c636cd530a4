"""A Turn owns everything started for one user utterance and can be cancelled as a whole."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

#: Stage marks, in the order they normally happen. Timings are reported relative to ``speech_end``
#: (voice turns) or ``input`` (text turns).
STAGES = (
    "speech_end",  # VAD decided the user stopped speaking
    "transcript",  # ASR finished
    "first_token",  # LLM produced its first token
    "first_sentence",  # splitter released the first speakable piece
    "first_audio",  # TTS produced the first audio chunk (sink received it)
    "reply_done",  # LLM finished
    "audio_done",  # last audio chunk handed to the sink
)


def new_turn_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass
class Turn:
    turn_id: str = field(default_factory=new_turn_id)
    started: float = field(default_factory=time.monotonic)
    cancel: threading.Event = field(default_factory=threading.Event)
    marks: dict[str, float] = field(default_factory=dict)
    extra: dict[str, float] = field(default_factory=dict)  # e.g. VAD hang-over, audio seconds

    def mark(self, stage: str, at: float | None = None) -> None:
        """Record the first time ``stage`` happened (later calls are ignored)."""
        self.marks.setdefault(stage, time.monotonic() if at is None else at)

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def interrupt(self) -> None:
        self.cancel.set()

    def timings(self) -> dict[str, float]:
        """Seconds from the turn's origin (end of speech, or text input) to each stage, plus extras."""
        origin = self.marks.get("speech_end", self.started)
        out = {f"{k}_s": round(v - origin, 4) for k, v in self.marks.items() if k != "speech_end"}
        if "transcript" in self.marks and "speech_end" in self.marks:
            out["asr_s"] = round(self.marks["transcript"] - self.marks["speech_end"], 4)
        llm_origin = self.marks.get("transcript", self.started)
        if "first_token" in self.marks:
            out["llm_first_token_s"] = round(self.marks["first_token"] - llm_origin, 4)
        if "first_audio" in self.marks and "first_sentence" in self.marks:
            out["tts_first_chunk_s"] = round(self.marks["first_audio"] - self.marks["first_sentence"], 4)
        out.update({k: round(v, 4) for k, v in self.extra.items()})
        return out


def heard_text(spans: list[tuple[str, float, float]], audible_until: float) -> str:
    """What the user actually heard, given ``(text, start_s, end_s)`` per spoken piece on the output clock.

    Pieces heard to the end are kept whole; the piece playing at ``audible_until`` is cut at the word
    reached (proportional to time), so history never claims words that were never played.
    """
    heard: list[str] = []
    for text, start, end in spans:
        if audible_until >= end:
            heard.append(text)
        elif audible_until > start:
            words = text.split()
            share = (audible_until - start) / max(end - start, 1e-6)
            count = int(len(words) * share)
            if count:
                heard.append(" ".join(words[:count]) + " …")
            break
        else:
            break
    return " ".join(heard)
