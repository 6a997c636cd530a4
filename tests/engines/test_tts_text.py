"""Sentence splitting and Piper alignment merging (pure functions)."""

from __future__ import annotations

import pytest

from engines.tts.alignment import PAUSE, alignments_to_timings
from engines.tts.text import split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello there. How are you?", ["Hello there.", "How are you?"]),
        ("Wait... what?! Really.", ["Wait...", "what?!", "Really."]),
        ("Dr. Smith paid 3.50 dollars, e.g. cheap. Done", ["Dr. Smith paid 3.50 dollars, e.g. cheap.", "Done"]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        ("one line\nand another", ["one line and another"]),
        ("   ", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_stress_goes_forward_length_goes_back_pauses_merge() -> None:
    rate = 1000
    pairs = [("^", 10), ("h", 20), ("ˈ", 5), ("a", 30), ("ː", 15), (" ", 4), (",", 6), ("$", 10)]
    timings = alignments_to_timings(pairs, rate)
    assert [(t.phoneme, round(t.start, 3), round(t.duration, 3)) for t in timings] == [
        (PAUSE, 0.0, 0.010),
        ("h", 0.010, 0.020),
        ("a", 0.030, 0.050),  # stress (5) before it + itself (30) + length (15)
        (PAUSE, 0.080, 0.020),  # space + comma + end marker
    ]


def test_zero_length_entries_are_dropped_and_coverage_is_kept() -> None:
    pairs = [("^", 0), ("m", 12), ("ə", 0), ("n", 5), ("$", 7)]
    timings = alignments_to_timings(pairs, 100)
    assert [t.phoneme for t in timings] == ["m", "n", PAUSE]
    assert timings[-1].start + timings[-1].duration == pytest.approx(0.24)


def test_a_stress_mark_before_a_pause_goes_back_to_the_previous_phoneme() -> None:
    timings = alignments_to_timings([("a", 10), ("ˈ", 5), (" ", 5)], 100)
    assert [(t.phoneme, t.duration) for t in timings] == [("a", pytest.approx(0.15)), (PAUSE, pytest.approx(0.05))]
