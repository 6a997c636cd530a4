"""The session's reports are typed: every name the session sends is a ``Report`` (and every ``Report`` is
sent), each reaches exactly its listener method with the payload's parts, and the Qt bridge implements the
whole ``SessionListener`` Protocol."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from app.core.reports import REPORTS, SessionListener, deliver, notifier

SESSION = Path(__file__).resolve().parents[2] / "app" / "session"  # every module of the session package
METHODS = sorted(name for name in vars(SessionListener) if name.startswith("on_"))


class Recorder:
    """A listener that writes down each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("on_"):
            raise AttributeError(name)
        return lambda *args: self.calls.append((name, args))


def test_every_name_the_session_sends_is_a_report_and_every_report_is_sent() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in sorted(SESSION.glob("*.py")))
    sent = set(re.findall(r'notify\(\s*"(\w+)"', source)) | set(re.findall(r'notify,\s*"(\w+)"', source))
    assert sent - REPORTS == set(), "the session sends reports no listener has a method for"
    assert REPORTS - sent == set(), "reports the session never sends"
    assert sorted(f"on_{name}" for name in REPORTS) == METHODS


@pytest.mark.parametrize(("name", "payload", "args"), [
    ("state", "idle", ("idle",)),
    ("models", (1, 4, "Loading the voice…"), (1, 4, "Loading the voice…")),
    ("audio", (False, "No microphone."), (False, "No microphone.")),
    ("token", ("t1", "Hel"), ("t1", "Hel")),
    ("conversations", [("a", 1)], ([("a", 1)],)),  # a list stays one argument
    ("conversation", None, (None,)),
    ("search", ("cat", []), ("cat", [])),
    ("sync", (True, None), (True, None)),
])
def test_each_report_calls_its_method_with_the_payloads_parts(name: str, payload: Any, args: tuple[Any, ...]) -> None:
    listener = Recorder()
    notifier(listener)(name, payload)  # type: ignore[arg-type]
    assert listener.calls == [(f"on_{name}", args)]


def test_a_misspelt_report_is_refused_not_dropped() -> None:
    with pytest.raises(ValueError, match="unknown report 'stat'"):
        deliver(Recorder(), "stat", "idle")  # type: ignore[arg-type]


def test_the_bridge_implements_the_listener() -> None:
    from app.ui.bridge import CoreBridge

    missing = [m for m in METHODS if not callable(getattr(CoreBridge, m, None))]
    assert missing == []
