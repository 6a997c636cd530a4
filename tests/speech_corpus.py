"""Speech that is NOT the app's own TTS voice, for tests and benchmarks: human recordings, espeak-ng voices and
accents, and utterances with pauses spliced in mid-sentence.

Human recordings: LibriVox readings of *Sense and Sensibility* (public domain) with word alignments, plus a
short spoken command, all from the test data of the **pocketsphinx 5.1.1 sdist** on PyPI (BSD-licensed
CMU Sphinx). The first use downloads the sdist once with ``pip download --no-binary`` (34 MB, PyPI only, no
model hub), takes out the few files below, checks their sha256 and keeps them in
``$VISAGE_SPEECH_CORPUS`` (default: the user cache folder ``visage/speech-corpus``). (faster-whisper's and
openai-whisper's sdists on PyPI do not ship their jfk.flac test file; pocketsphinx's does ship its
recordings.)

Used by tests (``from tests.speech_corpus import ...``) and benchmarks (bench/ puts the repo root on the path).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.audio_helpers import ASR_RATE, read_wav, resample

POCKETSPHINX = ("pocketsphinx", "5.1.1")
_DATA = f"pocketsphinx-{POCKETSPHINX[1]}/test/data/"
_LIBRIVOX = "librivox/sense_and_sensibility_01_austen_64kb-"
#: member (below test/data/) -> sha256
FILES: dict[str, str] = {
    f"{_LIBRIVOX}0870.wav": "b0557cf95c974d930577e58e46b7f068c432a6e3afcc286563d88922b2a5315c",
    f"{_LIBRIVOX}0880.wav": "fbec491ef00ee734a67f0ee318e98c51c157b479e1629ff4f4426861ecac0414",
    f"{_LIBRIVOX}0890.wav": "5793ffbdee55fb8bfd284943a6866864c832d9d4accf2661cabd39915c84ee10",
    f"{_LIBRIVOX}0920.wav": "40882414ef4cc51f3ff7a63bad0c8c87e7f595ffeb8209fbf756c8ebc5c28a59",
    f"{_LIBRIVOX}0930.wav": "954adbf0b56ac8a148cbe77b39ca18d76b5f2a1e1f405565bd786ce3e68a68b7",
    f"{_LIBRIVOX}0870.json": "6d3883a910d6646b74e73480922e2f0bcd294f617bd19f2c885a736088a9532c",
    f"{_LIBRIVOX}0880.json": "ecd310a6bae6db4c4ad142e46257681d412fbd62634d66664084fe932ac692cb",
    f"{_LIBRIVOX}0890.json": "eca493f8d07b95a03c9ac99f614c8346111e72f624b665650d6a0d122dac7b24",
    f"{_LIBRIVOX}0920.json": "e81bd5f50b920e3f81831e49b1566c2361db67d393ecd9d8f313b3b6b81ec866",
    f"{_LIBRIVOX}0930.json": "06d7a9eaaa5801ce8589d2218ea2fe8ea2e4b0c8783470bdfa68c49b043f7479",
    "goforward.raw": "f15c60ec54059d8b66e410d0064945a0b0a04ea56e1ddca1958e493c0cf70e71",
}
GOFORWARD_TEXT = "go forward ten meters"

#: espeak-ng voices/accents, each with its own speed (words per minute) and pitch (0-99)
ESPEAK_VOICES: tuple[tuple[str, int, int], ...] = (
    ("en-us", 170, 50),
    ("en-gb", 155, 40),
    ("en-gb-scotland", 165, 60),
    ("en-029", 150, 45),  # Caribbean (West Indies)
    ("en-us-nyc", 190, 35),
    ("en-gb-x-rp", 175, 70),
)


@dataclass(frozen=True)
class Recording:
    """Mono float32 speech at 16 kHz with its transcript and, when known, word timings (word, start_s, end_s)."""

    name: str
    text: str
    audio: np.ndarray = field(repr=False)
    words: tuple[tuple[str, float, float], ...] = ()
    source: str = ""


def corpus_dir() -> Path:
    env = os.environ.get("VISAGE_SPEECH_CORPUS")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("visage")) / "speech-corpus" / "-".join(POCKETSPHINX)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _complete(root: Path) -> bool:
    return all((root / m).is_file() and _sha256(root / m) == sha for m, sha in FILES.items())


def ensure_corpus() -> Path:
    """The folder with the human recordings, downloading and checking them the first time. Raises RuntimeError."""
    root = corpus_dir()
    if _complete(root):
        return root
    from engines.pip_download import pip_download

    root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".speech-", dir=root.parent) as work:
        sdist = pip_download(*POCKETSPHINX, Path(work) / "download", sdist=True)
        staged = Path(work) / "corpus"
        with tarfile.open(sdist) as tar:
            for member, sha in FILES.items():
                src = tar.extractfile(_DATA + member)
                if src is None:
                    raise RuntimeError(f"{sdist.name} has no {_DATA + member}")
                out = staged / member
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(src.read())
                if _sha256(out) != sha:
                    raise RuntimeError(f"{member} in {sdist.name} has an unexpected sha256: the download is damaged")
        if root.exists():
            shutil.rmtree(root)
        os.replace(staged, root)
    return root


@functools.cache
def human_recordings() -> tuple[Recording, ...]:
    """Five LibriVox sentences (one reader, word-aligned) and one spoken command (another speaker)."""
    root = ensure_corpus()
    out = []
    for member in sorted(m for m in FILES if m.endswith(".json")):
        meta = json.loads((root / member).read_text())
        pcm, rate = read_wav(root / member.replace(".json", ".wav"))
        words = tuple((w["t"].split("(")[0], float(w["b"]), round(float(w["b"]) + float(w["d"]), 3))
                      for w in meta["w"] if w["t"] != "<sil>")
        name = "librivox-" + member.rsplit("-", 1)[1].removesuffix(".json")
        out.append(Recording(name, meta["t"].strip(), resample(pcm, rate, ASR_RATE), words,
                             "LibriVox, Sense and Sensibility ch. 1 (public domain), via the pocketsphinx sdist"))
    raw = np.frombuffer((root / "goforward.raw").read_bytes(), dtype="<i2").astype(np.float32) / 32768.0
    out.append(Recording("goforward", GOFORWARD_TEXT, raw, (), "CMU Sphinx test recording, via the pocketsphinx sdist"))
    return tuple(out)


def espeak(text: str, voice: str = "en-us", speed: int = 170, pitch: int = 50) -> np.ndarray:
    """``text`` spoken by espeak-ng (SSML allowed, e.g. ``<break time='700ms'/>``), mono float32 at 16 kHz.

    Raises FileNotFoundError when espeak-ng is not installed (scripts/setup.sh installs it).
    """
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise FileNotFoundError("espeak-ng is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "espeak.wav"
        subprocess.run([exe, "-m", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path),
                        f"<speak>{text}</speak>"], check=True, capture_output=True)
        pcm, rate = read_wav(path)
    return np.clip(resample(pcm, rate, ASR_RATE), -1.0, 1.0)


def with_pauses(audio: np.ndarray, at_s: list[float] | tuple[float, ...], pause_s: float,
                rate: int = ASR_RATE) -> np.ndarray:
    """``audio`` with ``pause_s`` of silence spliced in at each time in ``at_s`` (seconds into the original)."""
    cuts = sorted(round(t * rate) for t in at_s)
    gap = np.zeros(round(pause_s * rate), np.float32)
    pieces, last = [], 0
    for cut in cuts:
        pieces += [audio[last:cut], gap]
        last = cut
    pieces.append(audio[last:])
    return np.concatenate(pieces).astype(np.float32, copy=False)


def paused_recording(rec: Recording, after_words: list[int] | tuple[int, ...], pause_s: float) -> np.ndarray:
    """A human recording with a pause of ``pause_s`` after each word index in ``after_words`` (mid-sentence)."""
    if not rec.words:
        raise ValueError(f"{rec.name} has no word timings")
    return with_pauses(rec.audio, [rec.words[i][2] for i in after_words], pause_s)


def cut_after(rec: Recording, word_index: int, tail_s: float = 0.2) -> np.ndarray:
    """The recording up to the end of word ``word_index`` plus ``tail_s`` of silence: an unfinished utterance."""
    end = round(rec.words[word_index][2] * ASR_RATE)
    return np.concatenate([rec.audio[:end], np.zeros(int(tail_s * ASR_RATE), np.float32)])


def paused_espeak(before: str, after: str, pause_s: float, voice: str = "en-us", speed: int = 170,
                  pitch: int = 50) -> np.ndarray:
    """One espeak-ng sentence with an SSML pause of ``pause_s`` between ``before`` and ``after`` (one prosody)."""
    return espeak(f"{before} <break time='{int(pause_s * 1000)}ms'/> {after}", voice, speed, pitch)
