"""Fixtures for the live-audio tests: a real PulseAudio server with null sinks, and `visage listen` on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_audio.app_process import ListeningApp
from tests.live_audio.pulse import INSTALL_HINT, PulseServer, missing_tools, pulse_server


@pytest.fixture
def pulse(tmp_path: Path) -> Iterator[PulseServer]:
    missing = missing_tools()
    if missing:  # setup installs them: a missing tool is a broken setup, not a reason to skip
        pytest.fail(f"{', '.join(missing)} not found: {INSTALL_HINT}")
    with pulse_server(tmp_path / "pulse") as server:
        yield server


@pytest.fixture
def listening(pulse: PulseServer, tmp_path: Path) -> Iterator[ListeningApp]:
    """`visage listen --json` on the sound server with the default models, ready (loaded, hands-free on)."""
    app = ListeningApp(pulse, tmp_path / "app")
    try:
        app.wait_for(lambda e: e["kind"] == "state" and e["state"] == "listening", timeout=180)
        yield app
    finally:
        app.close()
