"""`visage listen --json` as a subprocess on the test sound server: the app's real sounddevice backend.

Used by the live-audio tests and ``bench/barge_in.py``. Events arrive as JSON lines with a monotonic ``t``
(the same clock as :mod:`tests.live_audio.pulse`, so they compare with when the user's words went in).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.live_audio.pulse import PulseServer

Event = dict[str, Any]


class ListeningApp:
    def __init__(
        self, pulse: PulseServer, root: Path, *, llm: str | None = None, extra_config: str = "", verbose: int = 0
    ) -> None:
        self.root = root
        config = root / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "config.toml").write_text(
            '[audio]\ninput_device = "pulse"\noutput_device = "pulse"\n'
            + (f'\n[llm]\nmodel = "{llm}"\n' if llm else "")  # default: the app's own default model
            + extra_config
        )
        self.data = root / "data"
        env = {**pulse.env, "VISAGE_CONFIG_DIR": str(config), "PYTHONUNBUFFERED": "1"}
        self.stderr_path = root / "listen.stderr"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--data-dir", str(self.data), *["-v"] * verbose, "listen", "--json"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(self.stderr_path, "wb"),  # noqa: SIM115
            env=env, text=True,
        )
        self.events: list[Event] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            with self._cond:
                self.events.append(event)
                self._cond.notify_all()

    def wait_for(self, match: Callable[[Event], bool], timeout: float, after: float = 0.0) -> Event:
        """The first event (with ``t`` >= ``after``) that ``match`` accepts; fails with the log on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events:
                    if event["t"] >= after and match(event):
                        return event
                if event_failed := next((e for e in self.events if e["kind"] == "failed"), None):
                    raise AssertionError(f"visage listen failed: {event_failed['message']}\n{self.log()}")
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"no matching event within {timeout:.0f} s; events: "
                                         f"{self.brief()}\n{self.log()}")
                self._cond.wait(min(left, 0.5))

    def wait_until(self, state: str, timeout: float) -> None:
        """Until the app's latest state is ``state`` (it may already be: states are only sent on a change)."""
        self.wait_for(lambda e: e["kind"] == "state" and e is self._last_state() and e["state"] == state,
                      timeout=timeout)

    def _last_state(self) -> Event | None:
        return next((e for e in reversed(self.events) if e["kind"] == "state"), None)

    def of_kind(self, kind: str, after: float = 0.0) -> list[Event]:
        with self._cond:
            return [e for e in self.events if e["kind"] == kind and e["t"] >= after]

    def type(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def brief(self) -> list[str]:
        with self._cond:
            return [f"{e['t']:.2f} {e['kind']} {e.get('text') or e.get('state') or e.get('reply') or ''}"[:120]
                    for e in self.events if e["kind"] != "state"]

    def log(self) -> str:
        try:
            return self.stderr_path.read_text()[-3000:]
        except OSError:
            return ""

    def messages(self) -> list[tuple[str, str, int]]:
        """(role, text, interrupted) of every stored message, oldest first."""
        with sqlite3.connect(self.data / "visage.db", timeout=5) as db:
            return db.execute("select role, text, interrupted from messages order by id").fetchall()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
