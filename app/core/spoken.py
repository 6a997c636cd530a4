"""What one turn queued on the sink: each piece's text and audio, placed on the sink's audible clock.

It answers two questions: what the user has heard by a given time (history stores what was heard, not what was
generated: :func:`app.core.turn.heard_text`), and, when a reply was stopped for a sound that proved not to be
the user (a held barge-in, see ``Pipeline.hold``), which pieces must play again so the reply goes on from where
it was cut. Pure bookkeeping: no engine, no sink.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from engines.base import AudioChunk, PhonemeTiming

#: a reply played on from inside a piece starts this much before the cut (the word being said is heard again)
BACK_S = 0.25


@dataclass(frozen=True, slots=True)
class Piece:
    text: str
    chunk: AudioChunk
    sentence_index: int
    start: float  # on the sink's audible clock, seconds
    end: float


@dataclass
class SpokenReply:
    pieces: list[Piece] = field(default_factory=list)
    audio_s: float = 0.0  # the reply's audio as the user gets it (a piece played again counts once)
    end: float = 0.0  # where the last queued piece ends

    @property
    def spans(self) -> list[tuple[str, float, float]]:
        """``(text, start, end)`` per piece, in order."""
        return [(p.text, p.start, p.end) for p in self.pieces]

    def add(self, text: str, chunk: AudioChunk, sentence_index: int, start: float) -> Piece:
        piece = Piece(text, chunk, sentence_index, start, start + chunk.duration)
        self.pieces.append(piece)
        self.audio_s += chunk.duration
        self.end = piece.end
        return piece

    def take_unheard(self, cut: float, *, whole: bool = True) -> list[Piece]:
        """Remove and return the pieces not heard to their end by ``cut`` (playback stopped there). With
        ``whole``, the piece playing at ``cut`` is among them whole (it plays again from its start); without,
        only its rest from ``BACK_S`` before the cut (the word being said is heard again)."""
        kept = [p for p in self.pieces if p.end <= cut]
        unheard = self.pieces[len(kept):]
        if not whole and unheard and unheard[0].start < cut:
            head, rest = _split(unheard[0], max(0.0, cut - unheard[0].start - BACK_S))
            kept.append(head)
            unheard[0] = rest
        self.pieces = kept
        self.audio_s -= sum(p.chunk.duration for p in unheard)
        self.end = kept[-1].end if kept else 0.0
        return unheard


def _split(piece: Piece, at_s: float) -> tuple[Piece, Piece]:
    """``piece`` as what was heard before ``at_s`` into it, and the rest (its words shared by time)."""
    chunk = piece.chunk
    words = piece.text.split()
    n_head = int(len(words) * at_s / max(chunk.duration, 1e-6))
    first = round(at_s * chunk.sample_rate)
    phonemes = None
    if chunk.phonemes is not None:
        phonemes = tuple(
            PhonemeTiming(p.phoneme, max(0.0, p.start - at_s), p.duration - max(0.0, at_s - p.start))
            for p in chunk.phonemes if p.start + p.duration > at_s
        )
    rest_chunk = replace(chunk, pcm=chunk.pcm[first:], text=" ".join(words[n_head:]), phonemes=phonemes)
    head = Piece(" ".join(words[:n_head]), replace(chunk, pcm=chunk.pcm[:first], phonemes=None),
                 piece.sentence_index, piece.start, piece.start + at_s)
    rest = Piece(rest_chunk.text, rest_chunk, piece.sentence_index, piece.start + at_s, piece.end)
    return head, rest
