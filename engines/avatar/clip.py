"""Render a lip-synced talking-avatar video (H.264 + AAC MP4) from TTS chunks.

Timing rule (shared with the live widget): the frame shown at audio time ``t`` draws the mouth the
viseme track has for ``t + lead_s``, ``0 <= lead_s <= 40 ms``: video may lead audio slightly, never lag
(viewers notice late video sooner than early video only beyond ~45 ms early / ~125 ms late, and a
mouth that opens a touch before the sound looks natural). ``pad_s`` of idle frames (silent audio,
mouth at rest, blinking) come before and after the speech.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from engines.avatar.base import AvatarRenderer
from engines.avatar.errors import AvatarConfigError, ClipOutputError, LipSyncInputError
from engines.avatar.visemes import MouthParams, TrackSource, VisemeTrack
from engines.base import AudioChunk
from engines.errors import Cancelled, DependencyError

logger = logging.getLogger(__name__)

MAX_LEAD_S = 0.040
DEFAULT_LEAD_S = 0.020
_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
_AUDIO_FRAME = 1024  # AAC frame size


@dataclass(frozen=True, slots=True)
class ClipInfo:
    """What :func:`render_clip` wrote."""

    path: Path
    #: total length, idle padding included (s)
    duration_s: float
    #: speech audio length, without padding (s)
    audio_duration_s: float
    frames: int
    fps: int
    size: tuple[int, int]
    sample_rate: int
    #: what drove the mouth: "phonemes", "energy" (no timings: last resort), "mixed" or "empty"
    source: TrackSource
    lead_s: float
    pad_s: float


def collect_speech(chunks: Iterable[AudioChunk], start_s: float = 0.0) -> tuple[np.ndarray, int, VisemeTrack]:
    """Concatenate the chunks' audio and build their viseme track, the first chunk starting at ``start_s``."""
    pieces: list[np.ndarray] = []
    sample_rate: int | None = None
    track = VisemeTrack()
    offset_samples = 0
    for i, chunk in enumerate(chunks):
        if not isinstance(chunk, AudioChunk):
            raise LipSyncInputError(
                f"Chunk #{i} is a {type(chunk).__name__}, not an AudioChunk.",
                hint="Pass the chunks a TTS engine yields (engines.base.AudioChunk).",
            )
        if sample_rate is None:
            sample_rate = chunk.sample_rate
        elif chunk.sample_rate != sample_rate:
            raise LipSyncInputError(
                f"Chunk #{i} is at {chunk.sample_rate} Hz but the first one was at {sample_rate} Hz.",
                hint="Use one voice for a whole clip, or resample the chunks to one rate first.",
            )
        pcm = np.asarray(chunk.pcm)
        if pcm.ndim != 1:
            raise LipSyncInputError(
                f"Chunk #{i} audio has shape {pcm.shape}; mono 1-D audio is expected.",
                hint="Mix down to mono first, e.g. pcm.mean(axis=1).",
            )
        if pcm.dtype == np.int16:
            pcm = pcm.astype(np.float32) / 32768.0
        track.add_chunk(chunk, start_s + offset_samples / chunk.sample_rate)
        pieces.append(pcm.astype(np.float32, copy=False))
        offset_samples += len(pcm)
    if sample_rate is None or offset_samples == 0:
        raise LipSyncInputError(
            "There is no speech to render (no chunks, or only empty ones).",
            hint="Check that the text is not empty and that the TTS engine produced audio.",
        )
    return np.concatenate(pieces), sample_rate, track


def _check_output(out_path: Path) -> str:
    fmt = _FORMATS.get(out_path.suffix.lower())
    if fmt is None:
        raise ClipOutputError(
            f"Cannot write a video to {out_path}: unknown file type '{out_path.suffix}'.",
            hint="Name the file with .mp4 (or .mov / .mkv).",
        )
    parent = out_path.parent
    if not parent.is_dir():
        raise ClipOutputError(
            f"Cannot write {out_path}: the folder {parent} does not exist.",
            hint=f"Create it first (mkdir -p '{parent}') or choose another output path.",
        )
    if out_path.is_dir():
        raise ClipOutputError(f"Cannot write {out_path}: it is a folder.", hint="Give a file name such as reply.mp4.")
    if not os.access(parent, os.W_OK):
        raise ClipOutputError(
            f"Cannot write {out_path}: no permission to write in {parent}.",
            hint="Choose a folder you can write to (e.g. your home or Videos folder).",
        )
    probe = parent / f".{out_path.name}.probe"
    try:  # permissions can say yes where the file system says no (read-only mounts, /proc, full disks)
        probe.open("wb").close()
        probe.unlink()
    except OSError as err:
        raise ClipOutputError(
            f"Cannot write {out_path}: {parent} does not accept new files ({err.strerror or err}).",
            hint="Choose a folder you can write to (e.g. your home or Videos folder), with free space.",
        ) from err
    return fmt


def check_output(out_path: Path) -> str:
    """Raise :class:`ClipOutputError` now if a clip cannot be written to ``out_path``; returns the format."""
    return _check_output(Path(out_path))


def render_clip(
    chunks: Iterable[AudioChunk],
    renderer: AvatarRenderer,
    out_path: Path,
    fps: int = 30,
    *,
    lead_s: float = DEFAULT_LEAD_S,
    pad_s: float = 0.3,
    crf: int = 20,
    cancel: threading.Event | None = None,
    on_frame: Callable[[int, int], None] | None = None,
) -> ClipInfo:
    """Write an MP4 of ``renderer`` speaking ``chunks`` (H.264 video, AAC audio) and describe it.

    The mouth follows the chunks' phoneme timings; a chunk without timings (``phonemes is None``) is
    driven by its audio energy instead, and :attr:`ClipInfo.source` says so. ``on_frame(done, total)``
    is called after each video frame; setting ``cancel`` stops at the next frame with :class:`Cancelled`
    (the partial file is removed).
    """
    import av  # heavy (FFmpeg): imported only when a clip is rendered

    out_path = Path(out_path)
    if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= 120:
        raise AvatarConfigError(f"fps must be a whole number from 1 to 120, got {fps!r}.", hint="Use fps=30.")
    if not (isinstance(lead_s, (int, float)) and 0.0 <= lead_s <= MAX_LEAD_S):
        raise AvatarConfigError(
            f"lead_s must be between 0 and {MAX_LEAD_S} s (video may lead audio, never lag), got {lead_s!r}.",
            hint=f"Use the default {DEFAULT_LEAD_S}.",
        )
    if not (isinstance(pad_s, (int, float)) and 0.0 <= pad_s <= 10.0):
        raise AvatarConfigError(f"pad_s must be 0–10 s, got {pad_s!r}.", hint="Use the default 0.3.")
    width, height = renderer.size
    if width % 2 or height % 2:
        raise AvatarConfigError(
            f"The renderer's frame size {width}×{height} is odd; H.264 needs even sizes.",
            hint="Choose an even avatar size such as 512.",
        )
    fmt = _check_output(out_path)

    speech, sr, track = collect_speech(chunks, start_s=pad_s)
    _check_cancel(cancel)
    pad = np.zeros(round(pad_s * sr), np.float32)
    audio = np.clip(np.concatenate([pad, speech, pad]), -1.0, 1.0)
    total_s = len(audio) / sr
    n_frames = max(1, math.ceil(total_s * fps - 1e-9))
    mouths = track.sample_many(np.arange(n_frames) / fps + lead_s)

    encoder = _h264_encoder(av.codecs_available)
    tmp_path = out_path.with_name(f".{out_path.name}.partial")
    started = time.perf_counter()
    try:
        container = av.open(str(tmp_path), mode="w", format=fmt)
    except (OSError, av.FFmpegError) as err:
        raise ClipOutputError(
            f"Cannot create {out_path}: {err}.", hint="Choose a folder you can write to, with free space."
        ) from err
    try:
        vstream = container.add_stream(encoder, rate=fps)
        vstream.width, vstream.height = width, height
        vstream.pix_fmt = "yuv420p"
        if encoder == "libx264":
            vstream.codec_context.options = {"crf": str(crf), "preset": "veryfast"}
        else:
            vstream.bit_rate = 2_000_000
        astream = container.add_stream("aac", rate=sr)
        astream.codec_context.layout = "mono"
        vtb = Fraction(1, fps)
        atb = Fraction(1, sr)
        a_pos = 0

        def push_audio(until: int) -> None:
            nonlocal a_pos
            while a_pos < until:
                n = min(_AUDIO_FRAME, until - a_pos)
                af = av.AudioFrame.from_ndarray(audio[None, a_pos : a_pos + n], format="fltp", layout="mono")
                af.sample_rate = sr
                af.pts = a_pos
                af.time_base = atb
                container.mux(astream.encode(af))
                a_pos += n

        for k in range(n_frames):
            _check_cancel(cancel)
            # audio up to the end of this frame first, so packets interleave in time order
            push_audio(min(len(audio), round((k + 1) * sr / fps)))
            img = renderer.render(MouthParams(*mouths[k]), k / fps)
            vf = av.VideoFrame.from_ndarray(img, format="bgr24")
            vf.pts = k
            vf.time_base = vtb
            container.mux(vstream.encode(vf))
            if on_frame is not None:
                on_frame(k + 1, n_frames)
        push_audio(len(audio))
        container.mux(vstream.encode(None))
        container.mux(astream.encode(None))
        container.close()
        os.replace(tmp_path, out_path)
    except (OSError, av.FFmpegError) as err:
        _discard(container, tmp_path)
        raise ClipOutputError(
            f"Writing {out_path} failed: {err}.",
            hint="Choose a folder you can write to, and check the free disk space.",
        ) from err
    except BaseException:
        _discard(container, tmp_path)
        raise
    elapsed = time.perf_counter() - started
    info = ClipInfo(
        path=out_path,
        duration_s=total_s,
        audio_duration_s=len(speech) / sr,
        frames=n_frames,
        fps=fps,
        size=(width, height),
        sample_rate=sr,
        source=track.source,
        lead_s=float(lead_s),
        pad_s=float(pad_s),
    )
    logger.info(
        "clip %s: %.2f s, %d frames at %d fps, mouth from %s, rendered in %.2f s",
        out_path,
        total_s,
        n_frames,
        fps,
        track.source,
        elapsed,
    )
    return info


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("Rendering the clip was cancelled.", hint="Start it again when you are ready.")


def _h264_encoder(available: set[str]) -> str:
    for name in ("libx264", "libopenh264"):
        if name in available:
            return name
    raise DependencyError(
        "The installed PyAV has no H.264 encoder (libx264 or libopenh264), so no MP4 can be written.",
        hint="Reinstall PyAV from its wheel: pip install --force-reinstall av",
    )


def _discard(container: object, tmp_path: Path) -> None:
    try:
        container.close()  # type: ignore[attr-defined]
    except Exception:  # already failing: the original error is what matters
        logger.debug("closing a failed clip raised", exc_info=True)
    try:
        tmp_path.unlink(missing_ok=True)
    except OSError:
        logger.warning("could not remove the partial clip %s", tmp_path)
