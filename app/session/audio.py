"""The session's microphone side: where frames come from and speech goes to, push-to-talk and hands-free.

:class:`AudioBackend` is what the session needs of the sound card (the window's tests hand it files instead);
:class:`DeviceAudio` is the real one, through sounddevice with the devices chosen in the settings;
:class:`PushToTalk` records the microphone between a press and a release in its own thread;
:class:`Microphone` holds what is open: the push-to-talk recording, or the hands-free source behind its echo
gate and the task listening to it. The session decides when (voice on, models ready) and what the state shows.
Qt-free.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Protocol

import numpy as np

from app.core.audio_io import ASR_RATE, AudioSink, AudioSource
from app.core.config import Settings
from app.core.echo import EchoGate, EchoGatedSource, TimelineSink
from app.core.errors import AudioDeviceError, AudioInputError
from app.core.segmenter import Utterance


class AudioBackend(Protocol):
    """Where the microphone frames come from and the speech goes to."""

    def check(self) -> None:
        """Raise AudioDeviceError (with the fix) when there is no usable input/output device."""

    def open_source(self) -> AudioSource: ...

    def open_sink(self) -> AudioSink: ...


class DeviceAudio:
    """The sound card through sounddevice, with the devices chosen in the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def check(self) -> None:
        from app.core.audio_device import NO_DEVICE_HINT, list_devices

        devices = list_devices()
        if not any(d.inputs for d in devices) or not any(d.outputs for d in devices):
            raise AudioDeviceError("No microphone/speakers found.", hint=NO_DEVICE_HINT)

    def open_source(self) -> AudioSource:
        from app.core.audio_device import MicrophoneSource

        return MicrophoneSource(self.settings.audio.input_device, ASR_RATE)

    def open_sink(self) -> AudioSink:
        from app.core.audio_device import SpeakerSink

        return SpeakerSink(self.settings.audio.output_device)


def audio_with_devices(audio: AudioBackend, input_device: str | None, output_device: str | None) -> AudioBackend:
    """``audio`` as it would be with other devices chosen (the settings' sound check before saving)."""
    if isinstance(audio, DeviceAudio):
        devices = audio.settings.audio.model_copy(update={"input_device": input_device, "output_device": output_device})
        return DeviceAudio(audio.settings.model_copy(update={"audio": devices}))
    return audio  # a file-backed or test backend has no devices to choose


class PushToTalk:
    """Records the microphone between :meth:`start` and :meth:`finish` in its own thread."""

    def __init__(self, source: AudioSource, frame_samples: int = 512) -> None:
        self.source = source
        self.frame_samples = frame_samples
        self._frames: list[np.ndarray] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._record, name="visage-ptt", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def _record(self) -> None:
        try:
            for frame in self.source.frames(self.frame_samples):
                if self._stop.is_set():
                    return
                self._frames.append(np.array(frame, dtype=np.float32))
        except BaseException as err:  # reported by finish()
            self.error = err

    def finish(self) -> Utterance | None:
        """Stop recording (blocks briefly: call it in a worker) and return what was said, if anything."""
        self._stop.set()
        self.source.close()
        self._thread.join(timeout=2.0)
        if self.error is not None:
            raise AudioInputError(f"The microphone failed while recording: {self.error}")
        if not self._frames:
            return None
        audio = np.concatenate(self._frames)
        seconds = len(audio) / self.source.sample_rate
        return Utterance(audio=audio, start_s=0.0, end_s=seconds, hangover_s=0.0)


class Microphone:
    """The open microphone: a push-to-talk recording, or hands-free listening through the echo gate."""

    def __init__(self, audio: AudioBackend) -> None:
        self.audio = audio
        self.ptt: PushToTalk | None = None
        self.hands_free: asyncio.Task[Any] | None = None  # the session's task listening to the gated source
        self.gate: EchoGate | None = None  # the hands-free microphone's echo handling
        self._source: AudioSource | None = None

    @property
    def listening(self) -> bool:
        return self.hands_free is not None or self.ptt is not None

    async def press(self) -> None:
        """Open the microphone and start recording (push-to-talk)."""
        source = await asyncio.to_thread(self.audio.open_source)
        self.ptt = PushToTalk(source)
        self.ptt.start()

    async def release(self) -> Utterance | None:
        """Stop recording; what was said (None when nothing was recorded, or no recording ran).
        Raises AudioInputError when the microphone failed while recording."""
        ptt, self.ptt = self.ptt, None
        if ptt is None:
            return None
        return await asyncio.to_thread(ptt.finish)

    async def open_hands_free(self, sink: TimelineSink) -> EchoGatedSource:
        """Open the microphone for hands-free listening, behind an echo gate on what ``sink`` plays."""
        source = await asyncio.to_thread(self.audio.open_source)
        self._source = source
        self.gate = EchoGate.for_sink(sink)
        return EchoGatedSource(source, self.gate)

    def stop_hands_free(self) -> asyncio.Task[Any] | None:
        """Close the hands-free microphone; the listening task, to wait for its end (None when it was off)."""
        task, self.hands_free = self.hands_free, None
        if self._source is not None:
            self._source.close()
            self._source = None
        return task

    def hands_free_ended(self) -> bool:
        """Called by the listening task as it ends: True (and forgotten) when it ended by itself, False when
        :meth:`stop_hands_free` stopped it."""
        if self.hands_free is not None and self.hands_free is asyncio.current_task():
            self.hands_free = None
            self._source = None
            return True
        return False
