"""The default chat model as assembled at setup: Qwen's own ChatML template, the persona followed."""

from __future__ import annotations

import pytest

from app.core.config import LLMSettings, PersonaSettings
from engines.base import ChatMessage

pytestmark = pytest.mark.real_models


def test_the_default_model_uses_its_embedded_chatml_template_and_the_persona() -> None:
    from engines.llm.llama_cpp import LlamaCppLLM

    llm = LlamaCppLLM(LLMSettings(temperature=0.0, max_tokens=48))
    assert llm.settings.model == "qwen2.5-coder-1.5b"
    assert llm.template_source == "the chat template embedded in the GGUF"
    assert "<|im_start|>" in llm._llm.metadata["tokenizer.chat_template"]
    persona = PersonaSettings().system_prompt
    reply = "".join(llm.stream([ChatMessage("system", persona), ChatMessage("user", "Who are you?")]))
    assert "Visage" in reply, reply
    assert "language model" not in reply.lower()
