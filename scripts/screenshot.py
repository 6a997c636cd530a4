"""Regenerate the README screenshot from the real window, offscreen, mid-conversation.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshot.py [--out docs/screenshots/main-window.png]

Uses the real models and a private, temporary history (a few seeded conversations plus one live turn);
audio goes to a real-time file sink (no sound card needed), so the avatar's mouth moves with the reply.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from app.core.audio_io import FileAudioSink, FileAudioSource

log = logging.getLogger("screenshot")
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots" / "main-window.png"
QUESTION = "What can you tell me about Paris?"


class _FileAudio:
    """Speakers = a real-time file sink; microphone = silence."""

    def check(self) -> None:
        pass

    def open_source(self) -> FileAudioSource:
        return FileAudioSource.from_array(np.zeros(16_000, np.float32), realtime=True)

    def open_sink(self) -> FileAudioSink:
        return FileAudioSink(realtime=True)


def _seed(data_dir: Path) -> None:
    from app.store import Store

    with Store(data_dir / "visage.db") as store:
        for user, reply, pinned in [
            ("Ideas for a birthday dinner", "A **simple menu**: tomato soup, roast chicken and a lemon tart.", True),
            ("How do I say thank you in Japanese?", "You can say *arigatou gozaimasu*.", False),
            ("Remind me what a haiku is", "A haiku is a short poem of three lines: 5, 7 and 5 syllables.", False),
        ]:
            cid = store.create_conversation()
            store.add_message(cid, "user", user)
            store.add_message(cid, "assistant", reply, timings={"first_token_s": 0.21, "first_audio_s": 0.74})
            if pinned:
                store.set_pinned(cid, True)


def _wait(app: object, condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not reach the expected state in time")
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)


def take(out: Path, *, theme: str = "light") -> Path:
    from PySide6.QtWidgets import QApplication

    from app.core.config import Settings
    from app.ui import commands as cmd
    from app.ui.bridge import CoreBridge
    from app.ui.main_window import MainWindow
    from app.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(["visage-screenshot"])
    assert isinstance(app, QApplication)
    apply_theme(app, theme)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        _seed(data_dir)
        bridge = CoreBridge(Settings(), data_dir, audio=_FileAudio())  # type: ignore[arg-type]
        window = MainWindow(bridge, theme=theme)
        window.resize(1280, 780)
        window.show()
        ready: list[str] = []
        bridge.sig_ready.connect(ready.append)
        bridge.start()
        _wait(app, lambda: bool(ready), 120)
        bridge.send(cmd.NewConversation())
        _wait(app, lambda: window.chat.bubbles == [], 10)
        window.send_text(QUESTION)
        # mid-conversation: Visage is speaking, the reply is on screen, the mouth is open
        _wait(app, lambda: window.states[-1] == "speaking" and bridge.audible_time() > 1.2, 120)
        _wait(app, lambda: window.avatar.mouth.open > 0.35, 20)
        window.sidebar.select(bridge.session.conversation_id)
        save_grab(app, window, out)
    log.info("saved %s", out)
    return out


def save_grab(app: object, window: object, out: Path) -> None:
    """Save what the window shows now as a PNG, then close it."""
    app.processEvents()  # type: ignore[attr-defined]
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):  # type: ignore[attr-defined]
        raise OSError(f"could not write {out}")
    window.close()  # type: ignore[attr-defined]


def run_cli(take: Callable[..., Path], default_out: Path, description: str) -> int:
    """The command line both screenshot scripts share: --out and --theme."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=default_out, help="PNG file to write")
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    take(args.out, theme=args.theme)
    return 0


def main() -> int:
    return run_cli(take, DEFAULT_OUT, __doc__.splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())
