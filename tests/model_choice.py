"""Model choices for tests.

The default chat model (Qwen2.5-Coder-1.5B) is what the end-to-end and answer-quality tests use. Tests of
orchestration and engine mechanics (streaming, cancel, grammar, the studio's repair loop, the window) use the
small shipped model instead, so the whole suite stays within its time on 2 cores.
"""

from app.core.config import ASRSettings

SMALL_LLM = "smollm2-135m"

#: the speech recognizer the app serves by default: the API tests ask for it by name, as a client that read
#: /v1/models would (so they follow the default when it changes)
DEFAULT_ASR = ASRSettings().model
