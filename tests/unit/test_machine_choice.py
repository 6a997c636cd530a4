"""The default chat model follows the machine: under 4 GB of RAM the 0.5B, saying so; a user's choice stands."""

from __future__ import annotations

import pytest

from app.core import assembly, config, hardware

GB = 1024**3


@pytest.mark.parametrize(("ram_gb", "expected"), [(3.0, "qwen2.5-coder-0.5b"), (8.0, "qwen2.5-coder-1.5b")])
def test_the_default_model_fits_the_ram(monkeypatch: pytest.MonkeyPatch, ram_gb: float, expected: str) -> None:
    monkeypatch.setattr(hardware, "memory", lambda: (int(ram_gb * GB), int(ram_gb * GB / 2)))
    notices: list[str] = []
    chosen = assembly.llm_settings_for_machine(config.Settings(), notices.append)
    assert chosen.model == expected
    assert bool(notices) == (expected != "qwen2.5-coder-1.5b")
    if notices:
        assert "3.0 GB of RAM" in notices[0] and "[llm] model" in notices[0]


def test_a_model_the_user_chose_is_always_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hardware, "memory", lambda: (2 * GB, GB))
    settings = config.from_dict({"llm": {"model": "qwen2.5-coder-1.5b"}})
    notices: list[str] = []
    assert assembly.llm_settings_for_machine(settings, notices.append).model == "qwen2.5-coder-1.5b"
    assert notices == []
