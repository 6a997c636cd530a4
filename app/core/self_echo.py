"""The last line of defence against Visage answering its own voice: compare what was heard with what it said.

The echo canceller and gate (:mod:`app.core.echo`) work on the sound. When they cannot tell the user from the
echo they let the sound through (a dropped question costs the user's trust; a false interruption costs a
sentence), so a piece of Visage's own reply can reach the recogniser. This module catches it by its words: a
transcript whose words are, in order, a stretch of what Visage said in the last few seconds is its own voice.
Most of the transcript's words (``min_share``) must match, in order, within one compact stretch of the played
words (common words scattered over a long reply do not count). A user who repeats Visage's words back while it
talks is rare; that user would have to say them again.

Pure logic, no engine: :class:`PlayedText` is fed the sentences as they are played (on the sink's audible
clock), :meth:`PlayedText.is_echo` answers for one transcript.

Words are not always there to judge by: a quarter second of echo that slipped past the gate at the start of a
reply is, to the recogniser, noise it turns into "Thank you." or "Hey." (Whisper's hallucinations on short
sounds; live on PulseAudio they cut replies off and were answered as the user's). :func:`copy_of_playback`
judges the sound itself: how much of it is a delayed, scaled copy of what the speakers played, at any delay
within a second (the gate searches a quarter second, frame by frame; a whole sound against a wide window holds
even when the echo's delay jumped).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from difflib import SequenceMatcher, get_close_matches

import numpy as np

_WORD = re.compile(r"[\w']+")


def words(text: str) -> list[str]:
    return [w.lower().strip("'") for w in _WORD.findall(text) if w.strip("'")]


def _closest(word: str, vocabulary: set[str]) -> str:
    """``word`` as the played word it was most likely misheard for: the recogniser hears an echo badly (a cut
    word, "cap" for "capital"; a near miss, "washed" for "watched"). Unchanged when nothing is close."""
    if word in vocabulary:
        return word
    if len(word) >= 3:
        prefixed = [v for v in vocabulary if v.startswith(word)]
        if prefixed:
            return min(prefixed, key=len)
    close = get_close_matches(word, vocabulary, n=1, cutoff=0.75)
    return close[0] if close else word


@dataclass(frozen=True, slots=True)
class EchoVerdict:
    echo: bool
    matched: str = ""  # the words of Visage's reply the transcript matched
    share: float = 0.0  # of the transcript's words, how many are that stretch


class PlayedText:
    """What the speakers played recently: ``(text, start, end)`` on the audible clock."""

    def __init__(self, keep_s: float = 20.0, *, min_share: float = 0.75) -> None:
        self.keep_s = keep_s
        self.min_share = min_share
        self._spans: deque[tuple[str, float, float]] = deque()

    def played(self, text: str, start: float, end: float) -> None:
        self._spans.append((text, start, end))
        while self._spans and self._spans[0][2] < end - self.keep_s:
            self._spans.popleft()

    def stopped(self, at: float) -> None:
        """Playback was cut at ``at``: what was queued after it was never heard (so it cannot echo)."""
        kept = [(t, s, e) for t, s, e in self._spans if s < at]
        self._spans = deque(kept)

    def is_echo(self, transcript: str, heard_from: float, heard_until: float) -> EchoVerdict:
        """Whether ``transcript`` (heard between two audible-clock times) is a stretch of what was playing then
        (or up to 0.5 s before: the echo path's delay and the utterance's padding). Words said after Visage
        stopped talking are never echo, even when they repeat its words."""
        said = words(transcript)
        if not said:
            return EchoVerdict(False)
        played = [w for text, start, end in self._spans
                  if end >= heard_from - 0.5 and start <= heard_until for w in words(text)]
        if not played:
            return EchoVerdict(False)
        vocabulary = set(played)
        said = [_closest(word, vocabulary) for word in said]
        match = SequenceMatcher(None, said, played, autojunk=False)
        blocks = [b for b in match.get_matching_blocks() if b.size]
        if not blocks:
            return EchoVerdict(False)
        share = sum(b.size for b in blocks) / len(said)
        first, last = blocks[0].b, blocks[-1].b + blocks[-1].size
        compact = last - first <= 1.5 * len(said) + 2
        stretch = " ".join(played[first:last])
        # one short word is no evidence: "the" is in every reply (a question misheard as "the" was dropped as ours)
        telling = len(said) >= 2 or len(said[0]) >= 4
        return EchoVerdict(share >= self.min_share and compact and telling, stretch, round(share, 3))


def copy_of_playback(sound: np.ndarray, played: np.ndarray) -> float:
    """The best normalised correlation (0..1) between ``sound`` and any stretch of ``played`` as long as it:
    near 1 when the sound is our echo (a delayed, scaled copy), low for another voice (the user), and about the
    echo's share of the level when the user talks over it. ``played`` must be at least as long as ``sound``."""
    sound = np.asarray(sound, np.float64)
    played = np.asarray(played, np.float64)
    n, m = len(sound), len(played)
    energy = float(np.dot(sound, sound))
    if n == 0 or m < n or energy <= 1e-12:
        return 0.0
    size = 1 << (n + m - 1).bit_length()
    # c[k] = <played[k:k+n], sound> for every k, by FFT (a second of reference, tens of thousands of delays)
    c = np.fft.irfft(np.fft.rfft(played, size) * np.conj(np.fft.rfft(sound, size)), size)[: m - n + 1]
    sq = np.concatenate([[0.0], np.cumsum(played * played)])
    window = sq[n:] - sq[:-n]
    score = np.abs(c) / np.sqrt(np.maximum(window, 1e-12) * energy)
    score[window < 1e-9 * n] = 0.0  # silence in the reference explains nothing
    return float(min(1.0, score.max()))
