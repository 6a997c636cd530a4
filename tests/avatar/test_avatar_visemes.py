"""Viseme track: phoneme timings -> mouth shapes and timing (pure, no rendering)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engines.avatar.errors import LipSyncInputError
from engines.avatar.visemes import (
    CLOSED,
    REST,
    SHAPE_PARAMS,
    MouthParams,
    VisemeTrack,
    phoneme_shape,
)
from engines.base import AudioChunk, PhonemeTiming
from tests.avatar.synth import SR, syllables


def seq(*items: tuple[str, float]) -> list[PhonemeTiming]:
    """Back-to-back phonemes from (symbol, duration) pairs."""
    out, t = [], 0.0
    for sym, dur in items:
        out.append(PhonemeTiming(sym, t, dur))
        t += dur
    return out


@pytest.mark.parametrize(
    ("symbol", "shape"),
    [
        ("p", "A"),
        ("b", "A"),
        ("m", "A"),
        ("k", "B"),
        ("s", "B"),
        ("t", "B"),
        ("d", "B"),
        ("n", "B"),
        ("iː", "B"),
        ("ɛ", "C"),
        ("æ", "C"),
        ("ə", "C"),
        ("ɑ", "D"),
        ("ʌ", "D"),
        ("aɪ", "D"),
        ("ɔ", "E"),
        ("ɚ", "E"),
        ("ɹ", "E"),
        ("u", "F"),
        ("uː", "F"),
        ("oʊ", "F"),
        ("w", "F"),
        ("f", "G"),
        ("v", "G"),
        ("l", "H"),
        ("^", "X"),
        ("$", "X"),
        ("_", "X"),
        (" ", "X"),
        (",", "X"),
        (".", "X"),
        ("ˈɑ", "D"),
        ("ɑː", "D"),
        ("ẽ", "C"),
    ],
)
def test_phoneme_maps_to_rhubarb_shape(symbol: str, shape: str) -> None:
    assert phoneme_shape(symbol) == shape


def test_unknown_phoneme_is_drawn_as_a_consonant_not_an_error() -> None:
    assert phoneme_shape("ʕ") == "B"


def test_lips_fully_closed_at_the_middle_of_every_bilabial() -> None:
    # "a map, a bomb": short bilabials between open vowels are the hard case
    timings = seq(
        ("_", 0.1),
        ("ə", 0.08),
        ("m", 0.07),
        ("æ", 0.12),
        ("p", 0.03),
        (" ", 0.02),
        ("ə", 0.07),
        ("b", 0.05),
        ("ɑ", 0.14),
        ("m", 0.02),
        ("$", 0.1),
    )
    track = VisemeTrack.from_phonemes(timings)
    bilabials = [pt for pt in timings if pt.phoneme in "pbm"]
    assert len(bilabials) == 4
    for pt in bilabials:
        mid = pt.start + pt.duration / 2
        m = track.sample(mid)
        assert m.press == pytest.approx(1.0, abs=1e-6), pt
        assert m.open == pytest.approx(0.0, abs=1e-6), pt


def test_vowels_open_the_mouth_and_silence_rests() -> None:
    timings = seq(("^", 0.2), ("h", 0.06), ("ɑ", 0.2), ("_", 0.25), ("ɛ", 0.15), ("$", 0.2))
    track = VisemeTrack.from_phonemes(timings)
    assert track.source == "phonemes"
    assert track.sample(0.36).open == pytest.approx(SHAPE_PARAMS["D"].open)  # middle of ɑ
    assert track.sample(0.785).open == pytest.approx(SHAPE_PARAMS["C"].open)  # middle of ɛ
    assert track.sample(0.1) == REST  # leading silence marker
    assert track.sample(0.585) == REST  # pause between the words
    assert track.sample(5.0) == REST  # after the track
    assert track.sample(-1.0) == REST  # before it
    assert track.shape_at(0.585) == "X"
    # "h" takes the shape of the vowel it precedes
    assert track.shape_at(0.23) == "D"


def test_mouth_moves_smoothly_between_shapes() -> None:
    timings = seq(("_", 0.2), ("b", 0.08), ("ɑ", 0.2), ("f", 0.1), ("u", 0.15), ("_", 0.3))
    track = VisemeTrack.from_phonemes(timings)
    ts = np.arange(0.0, 1.2, 0.001)
    v = track.sample_many(ts)
    assert np.all((v >= 0.0) & (v <= 1.0))
    steps = np.abs(np.diff(v, axis=0)).max(axis=0)
    # a 0.92 opening spread over ~50 ms: no parameter jumps by more than 0.05 in 1 ms
    assert steps.max() < 0.05, steps
    # ...but the mouth still gets there: the b->ɑ boundary (t=0.28) is a blend, not a step
    at_boundary = track.sample(0.28).open
    assert 0.2 < at_boundary < 0.8


def test_transition_lasts_about_50_ms() -> None:
    track = VisemeTrack.from_phonemes(seq(("ɑ", 0.3), ("m", 0.3)))
    ts = np.arange(0.1, 0.5, 0.0005)  # around the ɑ -> m boundary at 0.3 s
    opening = track.sample_many(ts)[:, 0]
    moving = ts[(opening < SHAPE_PARAMS["D"].open - 1e-6) & (opening > 1e-6)]
    assert 0.040 <= moving.max() - moving.min() <= 0.060


def test_stress_and_length_marks_merge_into_neighbours() -> None:
    # Piper gives marks their own durations; the mouth must not rest during them
    track = VisemeTrack.from_phonemes(seq(("h", 0.05), ("ˈ", 0.03), ("ɑ", 0.1), ("ː", 0.08), ("t", 0.05)))
    assert track.shape_at(0.065) == "D"  # during ˈ: already the vowel
    assert track.shape_at(0.21) == "D"  # during ː: still the vowel
    assert track.sample(0.14).open == pytest.approx(SHAPE_PARAMS["D"].open)


def test_chunks_append_at_their_offsets() -> None:
    first = seq(("m", 0.1), ("ɑ", 0.2))
    second = seq(("p", 0.1), ("u", 0.2))
    track = VisemeTrack.from_phonemes(first)
    track.extend(second, offset_s=0.5)
    assert track.shape_at(0.55) == "A"
    assert track.sample(0.55) == CLOSED
    assert track.shape_at(0.7) == "F"
    assert track.shape_at(0.4) == "X"  # the gap between the chunks rests
    assert track.end == pytest.approx(0.8)


def test_chunk_before_the_end_of_the_track_is_refused_with_a_hint() -> None:
    track = VisemeTrack.from_phonemes(seq(("ɑ", 0.5)))
    with pytest.raises(LipSyncInputError) as err:
        track.extend(seq(("ɑ", 0.2)), offset_s=0.2)
    assert "offset_s" in str(err.value)


@pytest.mark.parametrize(
    "timings",
    [
        [PhonemeTiming("a", 0.0, -0.1)],
        [PhonemeTiming("a", math.nan, 0.1)],
        [PhonemeTiming("a", 0.5, 0.1), PhonemeTiming("b", 0.1, 0.1)],
        [("a", 0.0, 0.1)],
    ],
)
def test_bad_timings_raise_a_clear_error(timings: list) -> None:
    with pytest.raises(LipSyncInputError) as err:
        VisemeTrack.from_phonemes(timings)
    assert err.value.hint


def test_sample_many_matches_sample() -> None:
    chunk = syllables(4)
    track = VisemeTrack.from_phonemes(chunk.phonemes)
    ts = np.linspace(-0.2, chunk.duration + 0.2, 777)
    expected = np.array([track.sample(float(t)).as_tuple() for t in ts])
    np.testing.assert_allclose(track.sample_many(ts), expected, atol=1e-12)


def test_energy_fallback_opens_on_sound_without_lag() -> None:
    n = SR
    pcm = np.zeros(n, np.float32)
    burst = slice(int(0.4 * SR), int(0.6 * SR))
    pcm[burst] = 0.5 * np.sin(2 * np.pi * 200 * np.arange(burst.stop - burst.start) / SR)
    track = VisemeTrack.from_energy(pcm, SR)
    assert track.source == "energy"
    assert track.sample(0.5).open > 0.5
    assert track.sample(0.2) == REST
    assert track.sample(0.8) == REST
    ts = np.arange(0.0, 1.0, 0.001)
    opening = track.sample_many(ts)[:, 0]
    centre = float((ts * opening).sum() / opening.sum())
    assert centre == pytest.approx(0.5, abs=0.01)  # the mouth is centred on the sound, not behind it


def test_energy_accepts_int16_and_rejects_stereo() -> None:
    pcm = (np.sin(np.arange(SR) / 5.0) * 20000).astype(np.int16)
    assert VisemeTrack.from_energy(pcm, SR).sample(0.5).open > 0.5
    with pytest.raises(LipSyncInputError) as err:
        VisemeTrack.from_energy(np.zeros((SR, 2), np.float32), SR)
    assert "mono" in str(err.value)
    with pytest.raises(LipSyncInputError):
        VisemeTrack.from_energy(np.zeros(SR, np.float32), 0)


def test_chunk_without_timings_falls_back_to_energy() -> None:
    spoken = syllables(2)
    bare = AudioChunk(spoken.pcm, spoken.sample_rate, spoken.text, None)
    track = VisemeTrack()
    track.add_chunk(spoken, 0.0)
    track.add_chunk(bare, spoken.duration)
    assert track.source == "mixed"
    only_energy = VisemeTrack()
    only_energy.add_chunk(bare, 0.0)
    assert only_energy.source == "energy"
    # the energy-driven syllable opens while its vowel sounds (b 0.06 s, then ɑ for 0.2 s)
    assert only_energy.sample(0.16).open > 0.3


def test_mouth_params_are_immutable() -> None:
    m = MouthParams(0.5, 0.5, 0.0, 0.3, 0.0)
    with pytest.raises(AttributeError):
        m.open = 1.0  # type: ignore[misc]


def test_a_few_ms_of_overlap_between_chunks_is_tolerated() -> None:
    # timings that run 20 ms past their audio must not break the next chunk
    track = VisemeTrack.from_phonemes(seq(("ɑ", 0.52)))
    track.extend(seq(("m", 0.1), ("ɑ", 0.2)), offset_s=0.5)
    assert track.sample(0.55) == CLOSED
    assert track.end == pytest.approx(0.8)


def test_piper_style_alignment_of_a_sentence() -> None:
    """Piper gives one symbol per phoneme id with durations in 256-sample steps (22,050 Hz)."""
    frame = 256 / 22050
    text = "^həlˈoʊ! maɪ nˈeɪm ɪz nˈoʊvə.$"
    steps = [3, 4, 5, 6, 1, 8, 6, 4, 3, 6, 9, 5, 3, 1, 9, 6, 4, 7, 3, 5, 1, 9, 6, 5, 7, 4, 6, 8, 2, 9]
    timings = seq(*[(sym, n * frame) for sym, n in zip(text, steps, strict=True)])
    assert len(timings) == len(text)
    track = VisemeTrack.from_phonemes(timings)
    shapes = "".join(shape for _, _, shape in track.segments())
    # h->ə C, ə C, l H, ˈ merged into o, o F, ʊ F, ! X, space X, m A, a D, ɪ B, ...
    assert shapes.startswith("XCCHFFXXADB")
    closures = [pt for pt in timings if pt.phoneme == "m"]
    assert len(closures) == 2
    assert all(track.sample(pt.start + pt.duration / 2) == CLOSED for pt in closures)


@pytest.mark.parametrize(("symbols", "expected"), [(("t", "ʰ", "ɑ"), "BD"), (("ɑ", "˞", "s"), "DB")])
def test_modifier_letters_merge_into_the_phoneme_before(symbols: tuple[str, ...], expected: str) -> None:
    track = VisemeTrack.from_phonemes(seq(*[(sym, 0.1) for sym in symbols]))
    assert "".join(shape for _, _, shape in track.segments()) == expected
