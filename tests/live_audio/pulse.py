"""A real sound server for tests and benchmarks: PulseAudio in user mode with null sinks.

``spk`` is the speakers (its monitor is what a listener hears), ``micsink`` is where the "user" speaks (the
``mic`` source is its monitor), and ALSA's default routes to PulseAudio (Debian's ``99-pulse.conf`` does that
while a server runs), so the app's real sounddevice/PortAudio backend plays and records through it. An echo
path (the speakers heard by the microphone, as on a laptop) is ``module-loopback`` from ``spk.monitor`` into
``micsink``.

Timing: :class:`Recorder` reads a monitor with ``parec`` in small blocks and places each sample on the
monotonic clock from the time its block arrived (the stream's own latency, a few ms at ``--latency-msec``,
is subtracted), so events on the speakers can be compared with when the user's words went in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

RATE = 16_000
TOOLS = ("pulseaudio", "pactl", "paplay", "parec")
INSTALL_HINT = "sudo apt-get install pulseaudio pulseaudio-utils libasound2-plugins (scripts/setup.sh does it)"


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


class PulseServer:
    """One PulseAudio daemon in a private runtime folder; ``env`` points clients (and ALSA) at it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runtime = root / "runtime"
        self.runtime.mkdir(parents=True, exist_ok=True)
        self.runtime.chmod(0o700)
        self.socket = self.runtime / "native"
        self.env = {  # for clients: the app (its models stay where HOME says), paplay, parec, pactl
            **os.environ,
            "XDG_RUNTIME_DIR": str(self.runtime),
            "PULSE_RUNTIME_PATH": str(self.runtime),
            "PULSE_SERVER": f"unix:{self.socket}",
            "PULSE_SINK": "spk",
            "PULSE_SOURCE": "mic",
        }
        self._proc: subprocess.Popen[bytes] | None = None
        self._modules: list[str] = []

    def start(self) -> None:
        self._proc = subprocess.Popen(
            [
                "pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--realtime=no",
                "--high-priority=no", "--log-target=stderr", "--log-level=error", "--disallow-module-loading=no",
                f"--load=module-native-protocol-unix socket={self.socket} auth-anonymous=1",
                "--load=module-null-sink sink_name=spk rate=48000 channels=1",
                "--load=module-null-sink sink_name=micsink rate=48000 channels=1",
                "--load=module-remap-source master=micsink.monitor source_name=mic",
            ],
            env={**self.env, "HOME": str(self.root)},  # the daemon's own state stays in the test's folder
            stdout=subprocess.DEVNULL, stderr=open(self.root / "pulseaudio.log", "wb"),  # noqa: SIM115
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"pulseaudio exited: {(self.root / 'pulseaudio.log').read_text()[-2000:]}")
            if self.socket.exists() and self.pactl("info", check=False).returncode == 0:
                self.pactl("set-default-sink", "spk")
                self.pactl("set-default-source", "mic")
                return
            time.sleep(0.1)
        raise RuntimeError("pulseaudio did not start within 15 s")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc = None

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, check=check, timeout=10)

    # ---- the room ----
    def add_echo_path(self, *, latency_ms: int = 80, gain_db: float = -10.0) -> str:
        """The speakers heard by the microphone (a laptop): spk.monitor → micsink, delayed and quieter."""
        module = self.pactl(
            "load-module", "module-loopback", "source=spk.monitor", "sink=micsink",
            f"latency_msec={latency_ms}", "source_dont_move=true", "sink_dont_move=true",
        ).stdout.strip()
        self._modules.append(module)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the loopback's sink input appears once it runs
            current = None
            for line in self.pactl("list", "sink-inputs").stdout.splitlines():
                line = line.strip()
                if line.startswith("Sink Input #"):
                    current = line.removeprefix("Sink Input #")
                elif line == f"Owner Module: {module}" and current is not None:
                    self.pactl("set-sink-input-volume", current, f"{10 ** (gain_db / 20):.4f}")  # a linear factor
                    return module
            time.sleep(0.05)
        raise RuntimeError("the echo loopback did not start")

    def remove_echo_path(self) -> None:
        while self._modules:
            self.pactl("unload-module", self._modules.pop(), check=False)

    def say(self, pcm: np.ndarray, rate: int = RATE) -> float:
        """Speak ``pcm`` into the microphone, in real time; returns when it started (monotonic). Non-blocking."""
        path = Path(tempfile.mkstemp(suffix=".raw", dir=self.root)[1])
        path.write_bytes((np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes())
        started = time.monotonic()
        subprocess.Popen(
            ["paplay", "--raw", "--device=micsink", f"--rate={rate}", "--channels=1", "--format=s16le",
             "--latency-msec=10", str(path)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return started

    def recorder(self, source: str = "spk.monitor") -> Recorder:
        return Recorder(self, source)


class Recorder:
    """What a monitor source plays, with each block's arrival time on the monotonic clock."""

    block = 320  # 20 ms

    def __init__(self, server: PulseServer, source: str) -> None:
        self._proc = subprocess.Popen(
            ["parec", f"--device={source}", f"--rate={RATE}", "--channels=1", "--format=s16le", "--raw",
             "--latency-msec=10"],
            env=server.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self._blocks: list[tuple[float, np.ndarray]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        size = self.block * 2
        while True:
            data = self._proc.stdout.read(size)
            if not data:
                return
            arrived = time.monotonic()
            block = np.frombuffer(data, "<i2").astype(np.float32) / 32768.0
            with self._lock:
                self._blocks.append((arrived - len(block) / RATE, block))

    def stop(self) -> None:
        self._proc.terminate()
        self._proc.wait(5)
        self._thread.join(5)

    def envelope(self, window_s: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
        """(times, RMS) per ``window_s`` of what was heard."""
        with self._lock:
            blocks = list(self._blocks)
        if not blocks:
            return np.zeros(0), np.zeros(0)
        times = np.array([t for t, _ in blocks])
        rms = np.array([float(np.sqrt(np.mean(b.astype(np.float64) ** 2))) for _, b in blocks])
        return times, rms

    def sound_between(self, start: float, end: float, floor: float = 0.003) -> float:
        """Seconds of sound (RMS above ``floor``) heard between two monotonic times."""
        times, rms = self.envelope()
        mask = (times >= start) & (times < end) & (rms > floor)
        return float(mask.sum() * self.block / RATE)

    def last_sound(self, after: float, floor: float = 0.003) -> float | None:
        """When the last sound after ``after`` ended (monotonic), or None if none was heard."""
        times, rms = self.envelope()
        idx = np.nonzero((times >= after) & (rms > floor))[0]
        return float(times[idx[-1]] + self.block / RATE) if len(idx) else None

    def first_sound(self, after: float, floor: float = 0.003) -> float | None:
        times, rms = self.envelope()
        idx = np.nonzero((times >= after) & (rms > floor))[0]
        return float(times[idx[0]]) if len(idx) else None


@contextmanager
def pulse_server(root: Path) -> Iterator[PulseServer]:
    server = PulseServer(root)
    server.start()
    try:
        yield server
    finally:
        server.remove_echo_path()
        server.stop()
