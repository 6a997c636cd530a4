import numpy as np

from app.core.config import VADSettings
from app.core.segmenter import Segmenter, SpeechStart, Utterance

FRAME = 512
RATE = 16_000


def run(confidences: list[float], settings: VADSettings | None = None) -> list[object]:
    seg = Segmenter(settings or VADSettings(), RATE, FRAME)
    out: list[object] = []
    for i, c in enumerate(confidences):
        frame = np.full(FRAME, i, np.float32)  # frame value = its index, to check which frames are kept
        found = seg.push(frame, c)
        if found is not None:
            out.append(found)
    last = seg.finish_stream()
    if last is not None:
        out.append(last)
    return out


def frames(seconds: float) -> int:
    return round(seconds * RATE / FRAME)


def test_one_utterance_with_start_end_and_padding() -> None:
    confs = [0.0] * frames(1.0) + [0.9] * frames(1.0) + [0.0] * frames(1.0)
    out = run(confs)
    assert isinstance(out[0], SpeechStart) and isinstance(out[1], Utterance) and len(out) == 2
    utt = out[1]
    assert abs(out[0].offset_s - 1.0) < 0.05
    assert abs(utt.end_s - 2.0) < 0.05
    assert abs(utt.hangover_s - 0.4) < 0.05  # min_silence_ms default
    kept = sorted(set(utt.audio.astype(int).tolist()))
    speech_first = frames(1.0)
    # 200 ms of audio before speech started is kept (speech_pad_ms), and no more
    assert kept[0] == speech_first - round(0.2 * RATE / FRAME)


def test_short_pauses_do_not_split_an_utterance() -> None:
    confs = [0.9] * frames(0.6) + [0.0] * frames(0.25) + [0.9] * frames(0.6) + [0.0] * frames(1.0)
    utterances = [o for o in run(confs) if isinstance(o, Utterance)]
    assert len(utterances) == 1


def test_two_utterances_separated_by_silence() -> None:
    confs = ([0.9] * frames(0.6) + [0.0] * frames(0.8)) * 2
    utterances = [o for o in run(confs) if isinstance(o, Utterance)]
    assert len(utterances) == 2


def test_a_click_is_not_speech() -> None:
    confs = [0.0] * 10 + [0.9] * 2 + [0.0] * frames(1.0)
    assert run(confs) == []


def test_hysteresis_keeps_speech_through_middling_confidence() -> None:
    confs = [0.9] * frames(0.5) + [0.4] * frames(1.0) + [0.0] * frames(1.0)
    utterances = [o for o in run(confs) if isinstance(o, Utterance)]
    assert len(utterances) == 1
    assert abs(utterances[0].end_s - 1.5) < 0.05


def test_stream_ending_mid_speech_closes_the_utterance() -> None:
    out = run([0.9] * frames(1.0))
    assert isinstance(out[-1], Utterance)


def test_speech_start_comes_sooner_while_visage_is_talking() -> None:
    settings = VADSettings(min_speech_ms=200, barge_in_ms=96)
    confs = [0.0] * 5 + [0.9] * frames(0.5) + [0.0] * frames(1.0)

    def start_frame(busy: bool) -> int:
        seg = Segmenter(settings, RATE, FRAME)
        seg.busy = busy
        for i, c in enumerate(confs):
            if isinstance(seg.push(np.zeros(FRAME, np.float32), c), SpeechStart):
                return i
        raise AssertionError("no start")

    idle, busy = start_frame(False), start_frame(True)
    assert busy - 5 == 2  # 3 frames of 32 ms: the third one triggers
    assert idle - 5 == 5  # 6 frames ≈ 200 ms
