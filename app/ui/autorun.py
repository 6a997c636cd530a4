"""Scripted start for the bundle's smoke test and start-up bench (``scripts/smoke_bundle.sh``,
``bench/bundle.py``). Does nothing unless ``VISAGE_AUTORUN`` names a JSON file to write:

- ``VISAGE_AUTORUN=out.json``: records wall-clock times (``time.time()``) of window shown, models ready
  (or failed), first reply token and reply finished, and the reply text;
- ``VISAGE_AUTORUN_SAY="text"``: sends this message once the models are ready;
- ``VISAGE_AUTORUN_SCREENSHOT=shot.png``: grabs the window after the reply (or once ready);
- the app then quits (``VISAGE_AUTORUN_TIMEOUT`` seconds at most, default 120).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def install(app: Any, window: Any, bridge: Any) -> None:
    target = os.environ.get("VISAGE_AUTORUN")
    if not target:
        return
    from PySide6.QtCore import QTimer

    from app.ui import commands as cmd

    say = os.environ.get("VISAGE_AUTORUN_SAY", "")
    shot = os.environ.get("VISAGE_AUTORUN_SCREENSHOT", "")
    record: dict[str, Any] = {"pid": os.getpid(), "reply": ""}
    # the first turn of the event loop after show(): the window has been laid out and painted
    QTimer.singleShot(0, lambda: record.setdefault("window_shown", time.time()))

    def finish(reason: str) -> None:
        record.setdefault("end", reason)
        if shot:
            window.grab().save(shot)
            record["screenshot"] = shot
        Path(target).write_text(json.dumps(record, indent=2), encoding="utf-8")
        app.quit()

    def on_ready(summary: str) -> None:
        record["models_ready"] = time.time()
        record["engines"] = summary
        if say:
            record["sent"] = time.time()
            if hasattr(window, "send_text"):
                window.send_text(say)  # as if typed: the window shows the user's message too
            else:
                bridge.send(cmd.SendText(say))
        else:
            QTimer.singleShot(300, lambda: finish("ready"))

    def on_token(_turn: str, text: str) -> None:
        record.setdefault("first_token", time.time())
        record["reply"] += text

    def on_finished(_event: Any) -> None:
        record["reply_done"] = time.time()
        QTimer.singleShot(500, lambda: finish("reply"))  # let the chat and avatar repaint first

    def on_failed(message: str) -> None:
        record["failed"] = message
        finish("failed")

    bridge.sig_ready.connect(on_ready)
    bridge.sig_token.connect(on_token)
    bridge.sig_finished.connect(on_finished)
    bridge.sig_failed.connect(on_failed)
    QTimer.singleShot(int(1000 * float(os.environ.get("VISAGE_AUTORUN_TIMEOUT", "120"))), lambda: finish("timeout"))
