"""Asking for the GPU on a build that cannot use it is a visible fallback, never a silent one."""

from __future__ import annotations

import llama_cpp
import pytest

from app.core.assembly import build_engines
from app.core.config import Settings
from engines.base import ChatMessage


@pytest.mark.real_models
def test_gpu_request_on_cpu_build_is_announced() -> None:
    settings = Settings()
    settings.llm.n_gpu_layers = -1
    notices: list[str] = []
    engines = build_engines(settings, roles=("llm",), on_notice=notices.append)
    reply = "".join(engines.llm.stream([ChatMessage("user", "Hi")]))
    assert reply.strip()  # it still answers, on whatever device it has
    if llama_cpp.llama_supports_gpu_offload():
        assert notices == []
    else:
        assert len(notices) == 1 and "runs on the CPU" in notices[0] and "GGML_CUDA" in notices[0]
