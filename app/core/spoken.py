"""What one turn queued on the sink: each piece's text and audio, placed on the sink's audible clock.

It answers two questions: what the user has heard by a given time (history stores what was heard, not what was
generated: :func:`app.core.turn.heard_text`), and, when a reply was stopped for a sound that proved not to be
the user (a held barge-in, see ``Pipeline.hold``), which pieces must play again so the reply goes on from where
it was cut. Pure bookkeeping: no engine, no sink.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engines.base import AudioChunk


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

    def take_unheard(self, cut: float) -> list[Piece]:
        """Remove and return the pieces not heard to their end by ``cut`` (playback stopped there). The piece
        playing at ``cut`` is among them: it plays again whole, a sentence cut mid-word is hard to follow."""
        kept = [p for p in self.pieces if p.end <= cut]
        unheard = self.pieces[len(kept):]
        self.pieces = kept
        self.audio_s -= sum(p.chunk.duration for p in unheard)
        self.end = kept[-1].end if kept else 0.0
        return unheard
