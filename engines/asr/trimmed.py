"""Whisper on the utterance's real length instead of its 30 s window, and the guard that decides when to trust it.

faster-whisper pads every utterance to 3,000 mel frames (30 s) before the encoder, so a 4 s question costs
the encoder 30 s of work. CTranslate2's encoder accepts fewer frames: :func:`decode_trimmed` runs it on
the real frames plus ~1 s of silence, then greedy/beam decoding as faster-whisper would. Whisper never saw
such short windows in training and now and then repeats itself, stops early or hears speech in noise, so
:func:`distrust` checks the result (repeated n-grams, compression ratio, words per second, confidence,
no-speech probability, the length cap) and the caller falls back to the padded pass when it says why.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

SAMPLE_RATE = 16000
PAD_S = 1.0  # silence after the speech: lets the decoder see the utterance end
#: silence before the speech. bench/asr_quality.py's 126 clips, trimmed pass, lead 0 / 0.3 / 0.5 s: tiny.en WER
#: 0.213 / 0.203 / 0.208, base 0.179 / 0.160 / 0.160 (p50 per clip +0.03 s); espeak en-us "What is the capital
#: of France?" starting at the first sample came out as "capital and friends" on tiny.en without it
LEAD_S = 0.3
MAX_TRIMMED_S = 28.0  # longer audio takes the padded path (the encoder's limit is 30 s)

# guard thresholds (faster-whisper's own defaults where it has one)
MAX_COMPRESSION_RATIO = 2.4
MIN_AVG_LOGPROB = -1.0
MAX_NO_SPEECH_PROB = 0.6
MAX_WORDS_PER_S = 5.0  # fast speech is ~4 words/s
#: a phrase of n words repeated back to back this many times is a decoding loop, not speech
REPEATS_FOR_NGRAM = {1: 4, 2: 3}
REPEATS_FOR_LONGER = 2  # 3+ words said twice in a row


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    language: str
    avg_logprob: float
    no_speech_prob: float
    hit_length_cap: bool


def token_cap(duration_s: float) -> int:
    """Most text tokens an utterance of ``duration_s`` can plausibly need (~4 tokens/s spoken, with room)."""
    return int(16 + 8 * duration_s)


def decode_trimmed(model: Any, audio: np.ndarray, *, language: str | None, beam_size: int) -> Decoded:
    """Decode ``audio`` (float32, 16 kHz) with ``model`` (a ``faster_whisper.WhisperModel``) on its own length."""
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    padded = np.concatenate([np.zeros(int(LEAD_S * SAMPLE_RATE), np.float32), audio,
                             np.zeros(int(PAD_S * SAMPLE_RATE), np.float32)])
    features = model.feature_extractor(padded)  # (80, frames), no 30 s padding
    frames = features.shape[-1] - features.shape[-1] % 2  # the encoder's stride-2 convolution wants an even count
    encoder_output = model.encode(np.ascontiguousarray(features[:, :frames]))
    multilingual = bool(model.model.is_multilingual)
    if not multilingual:
        language = "en"
    elif language is None:
        token, _prob = model.model.detect_language(encoder_output)[0][0]
        language = token[2:-2]  # "<|de|>" -> "de"
    tokenizer = Tokenizer(model.hf_tokenizer, multilingual, task="transcribe", language=language)
    prompt = list(tokenizer.sot_sequence)  # WITH timestamps: they show which text lies past the audio
    duration_s = len(audio) / SAMPLE_RATE
    cap = token_cap(duration_s)
    result = model.model.generate(
        encoder_output,
        [prompt],
        beam_size=beam_size,
        max_length=min(len(prompt) + cap, model.max_length),
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=list(get_suppressed_tokens(tokenizer, [-1])),
    )[0]
    tokens = result.sequences_ids[0]
    # CTranslate2's score is the length-normalised sum of log-probabilities; faster-whisper's average:
    avg_logprob = float(result.scores[0]) * len(tokens) / (len(tokens) + 1) if tokens else float("-inf")
    return Decoded(
        text=_text_within(tokens, tokenizer, duration_s),
        language=language,
        avg_logprob=avg_logprob,
        no_speech_prob=float(result.no_speech_prob),
        hit_length_cap=len(tokens) >= cap,
    )


def _text_within(tokens: list[int], tokenizer: Any, duration_s: float) -> str:
    """The text of the segments that start within the speech. A later segment starting where the speech ends
    is the decoder repeating itself into the padding (the typical failure of a short window): dropped. The
    first segment is always kept (tiny's timestamps on short windows are coarse: whole seconds)."""
    latest_start = duration_s - 0.3
    kept: list[str] = []
    current: list[int] = []
    start = 0.0
    for token in [*tokens, tokenizer.timestamp_begin]:  # a final timestamp closes an unclosed tail
        if token < tokenizer.timestamp_begin:
            current.append(token)
            continue
        if current and (not kept or start < latest_start):
            kept.append(tokenizer.decode(current).strip())
        if current or not kept:
            start = (token - tokenizer.timestamp_begin) * 0.02
        current = []
    return " ".join(part for part in kept if part)


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def repeated_ngram(text: str) -> str | None:
    """The first phrase repeated back to back like a decoding loop ("thank you thank you thank you"), or None."""
    words = re.findall(r"[a-z0-9']+", text.lower())  # "old-s-y-y-y-y" is a loop too
    for n in range(1, len(words) // 2 + 1):
        needed = REPEATS_FOR_NGRAM.get(n, REPEATS_FOR_LONGER)
        for start in range(len(words) - n * needed + 1):
            gram = words[start : start + n]
            if all(words[start + k * n : start + (k + 1) * n] == gram for k in range(1, needed)):
                return " ".join(gram)
    return None


def distrust(decoded: Decoded, duration_s: float) -> str | None:
    """Why the trimmed result must not be used (a sentence for the log), or None when it looks right."""
    text = decoded.text
    if decoded.no_speech_prob > MAX_NO_SPEECH_PROB:
        return f"the trimmed pass heard no speech (p={decoded.no_speech_prob:.2f})"
    if not text:
        return "the trimmed pass returned no text"
    if decoded.hit_length_cap:
        return f"the trimmed pass ran into its length cap ({token_cap(duration_s)} tokens for {duration_s:.1f} s)"
    gram = repeated_ngram(text)
    if gram is not None:
        return f"the trimmed pass repeats '{gram}'"
    ratio = compression_ratio(text)
    if ratio > MAX_COMPRESSION_RATIO:
        return f"the trimmed text is repetitive (compression ratio {ratio:.2f} > {MAX_COMPRESSION_RATIO})"
    words = len(text.split())
    if words > 3 and words > MAX_WORDS_PER_S * duration_s:
        return f"{words} words in {duration_s:.1f} s is faster than anyone speaks"
    if decoded.avg_logprob < MIN_AVG_LOGPROB:
        return f"the trimmed pass is unsure (average log-probability {decoded.avg_logprob:.2f})"
    return None
