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


def test_the_default_model_tells_a_finished_sentence_from_a_fragment_and_still_answers_after() -> None:
    """What Whisper writes as "Who painted?" after a pause is judged unfinished; the whole question finished.
    Judging reads the reply's own prompt prefix: the reply that follows must still be right."""
    from app.core.end_of_turn import UNFINISHED_WORDS
    from engines.llm.llama_cpp import LlamaCppLLM

    llm = LlamaCppLLM(LLMSettings(temperature=0.0, max_tokens=32))
    system = ChatMessage("system", PersonaSettings().system_prompt)
    for fragment in ("Who painted?", "What is the chemical symbol.", "Can you tell me how tall?"):
        assert llm.sentence_end_probability([system, ChatMessage("user", fragment)]) < UNFINISHED_WORDS, fragment
    whole = [system, ChatMessage("user", "Who painted the Mona Lisa?")]
    assert llm.sentence_end_probability(whole) > 0.3
    reply = "".join(llm.stream(whole))
    assert "Leonardo" in reply or "Vinci" in reply, reply
