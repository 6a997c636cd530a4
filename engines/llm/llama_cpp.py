"""Chat and completion with llama.cpp (llama-cpp-python) on a local GGUF model.

The GGUF's embedded chat template is used unless ``[llm] chat_format`` names one of llama.cpp's
formats (a GGUF without a template would otherwise silently get the llama-2 format: we log it and
``info()`` says so). Generation is streamed; ``cancel`` is checked between tokens and the underlying
generator is closed, so a barge-in stops decoding within one token.

``cancel`` also stops the reading of the prompt: llama-cpp-python evaluates a prompt with one
``Llama.eval`` call (a few-shot studio prompt of 300-700 tokens takes 1-3 s on one core), so the model
here is a ``Llama`` whose ``eval`` feeds the tokens in chunks of ``PROMPT_CHUNK`` and checks the
flag between chunks. What was evaluated stays valid (``n_tokens`` and the KV cache advance together
chunk by chunk), and the next request reuses it through llama-cpp-python's prefix matching.

A ``json_schema`` is turned into a grammar here (``engines.llm.grammar``), which also understands
``"x-contains"``: a string that must contain given phrases.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from engines.base import ChatMessage, EngineInfo
from engines.errors import ConfigError, ModelError
from engines.llm.generation import ContextLengthError, GenerationOptions, Outcome
from engines.llm.options import LlamaOptions
from engines.llm.sentence_end import bare_words, final_punctuation_tokens, prompt_up_to_words
from engines.models import resolve_llm, shipped_llm_names

log = logging.getLogger(__name__)

#: prompt tokens evaluated between two looks at the cancel flag: about 0.25 s on one core of the
#: 2-core baseline (250 tokens/s for SmolLM2-135M). Not slower than one 512-token batch: 248 vs 244
#: tokens/s on a 1065-token prompt; first token of the email brief's studio prompt (390 tokens)
#: 1.404-1.407 s vs 1.434-1.443 s (best of 6, interleaved in one process, load 2.2-2.3)
PROMPT_CHUNK = 64


class PromptCancelled(Exception):
    """Raised inside llama-cpp-python's generator when ``cancel`` is set while the prompt is read."""


_cancellable: type | None = None


def _cancellable_llama() -> type:
    """``llama_cpp.Llama`` with an ``eval`` that stops between chunks of the prompt when cancelled, and
    grammar sampling that checks the picked token rather than the whole vocabulary (``engines.llm.sampling``)."""
    global _cancellable
    if _cancellable is None:
        import llama_cpp

        class CancellableLlama(llama_cpp.Llama):  # type: ignore[misc]
            cancel_event: threading.Event | None = None
            #: token counts of the generation running now (``generate`` with an Outcome), else None
            outcome: Any = None

            def generate(self, tokens: Sequence[int], *args: Any, **kwargs: Any) -> Iterator[int]:
                outcome = self.outcome
                if outcome is None:
                    yield from super().generate(tokens, *args, **kwargs)
                    return
                outcome.prompt_tokens = len(tokens)
                for token in super().generate(tokens, *args, **kwargs):
                    if not llama_cpp.llama_vocab_is_eog(self._model.vocab, token):
                        outcome.completion_tokens += 1
                    yield token

            def _init_sampler(self, *args: Any, grammar: Any = None, **kwargs: Any) -> Any:
                chain = super()._init_sampler(*args, grammar=None, **kwargs)
                if grammar is None:
                    return chain
                from engines.llm.sampling import TryThenGrammar

                return TryThenGrammar(chain, self._model, grammar, self._n_vocab)

            def eval(self, tokens: Sequence[int]) -> None:
                cancel = self.cancel_event
                if cancel is None or len(tokens) <= PROMPT_CHUNK:
                    super().eval(tokens)
                    return
                for start in range(0, len(tokens), PROMPT_CHUNK):
                    if cancel.is_set():
                        # n_tokens counts exactly the tokens whose KV entries are in the cache
                        raise PromptCancelled(f"cancelled after {self.n_tokens} prompt tokens")
                    super().eval(tokens[start:start + PROMPT_CHUNK])

        _cancellable = CancellableLlama
    return _cancellable


def _sampling(options: GenerationOptions) -> dict[str, Any]:
    """llama.cpp's keyword arguments for the options a request set (max_tokens, temperature and the schema
    are mapped by ``_stream_chat`` itself)."""
    out: dict[str, Any] = {"frequency_penalty": options.frequency_penalty,
                           "presence_penalty": options.presence_penalty}
    if options.top_p is not None:
        out["top_p"] = options.top_p
    if options.stop:
        out["stop"] = list(options.stop)
    if options.seed is not None:
        out["seed"] = options.seed
    return out


#: a model file at least this big decodes on every core: its per-token work outweighs the threads' waiting
ALL_CORES_MODEL_BYTES = 400_000_000


def default_threads(model_bytes: int) -> int:
    """Decode threads when ``[llm] n_threads`` is empty: all cores for models of 400 MB and more, else all but one.

    llama.cpp's worker threads spin while they wait for each other. For a tiny model each token is so
    little work that the waiting dominates: when Piper takes a core, an all-cores SmolLM2-135M fell from
    107 to 1.2 tokens/s, one thread stayed at 67-80. For a big model the work per token dominates, and
    one thread halves the speed everywhere. Measured on a 2-core Xeon while Piper synthesised a
    sentence every second (continuously), tokens/s with 1 vs 2 threads:

    - Qwen2.5-Coder-1.5B: 7.6 vs 12.1 (5.3 vs 6.2), idle 7.8 vs 14.3
    - Qwen2.5-Coder-0.5B: 15.1 vs 20.9 (12.9 vs 12.3)
    - SmolLM2-135M: 80 vs 107 (67 vs 1.2)
    """
    cores = os.cpu_count() or 1
    return cores if model_bytes >= ALL_CORES_MODEL_BYTES else max(1, cores - 1)


class LlamaCppLLM:
    """Streams chat replies from a GGUF model; also plain and grammar-constrained completion."""

    def __init__(self, settings: LlamaOptions) -> None:
        import llama_cpp

        self.settings = settings
        self.model_path = resolve_llm(self.settings.model)
        self.n_threads = self.settings.n_threads or default_threads(self.model_path.stat().st_size)
        self.n_threads_batch = self.settings.n_threads or (os.cpu_count() or 1)
        self.gpu_offload_supported = bool(llama_cpp.llama_supports_gpu_offload())
        self._version = llama_cpp.__version__
        try:
            self._llm = _cancellable_llama()(
                model_path=str(self.model_path),
                n_ctx=self.settings.n_ctx,
                n_threads=self.n_threads,
                # reading the prompt happens while nothing else runs (ASR is done, TTS waits for the first
                # clause): all cores for it; decoding a small model keeps one core free (default_threads)
                n_threads_batch=self.n_threads_batch,
                # read into memory, not mmap'ed: llama.cpp repacks the Q4_K weights for AVX2 into a buffer of its
                # own, so with mmap the file's pages stay resident beside that copy (1.5B: 1.81 GB RSS mmap'ed,
                # 1.21 GB read, loading no slower)
                use_mmap=False,
                n_gpu_layers=self.settings.n_gpu_layers,
                chat_format=self.settings.chat_format,
                verbose=False,
            )
        except (ValueError, RuntimeError) as err:
            raise ModelError(
                f"llama.cpp cannot load {self.model_path}: the file is damaged, truncated or not a model "
                f"this llama.cpp understands ({err}).",
                hint='Run `bash scripts/setup.sh` again, or set [llm] model = "/path/to/model.gguf" '
                "to a complete GGUF file in config.toml.",
            ) from err
        self.has_template = "tokenizer.chat_template" in self._llm.metadata
        self._jinja: Any = None  # the embedded template's formatter, built on first use
        self._final: list[int] | None = None  # sentence-final punctuation tokens, found on first use
        if self.settings.chat_format:
            self.template_source = f"chat_format = {self.settings.chat_format!r} from the settings"
        elif self.has_template:
            self.template_source = "the chat template embedded in the GGUF"
        else:
            self.template_source = "llama-2 (the GGUF has no chat template: set [llm] chat_format)"
            log.warning("%s has no chat template; llama.cpp falls back to the llama-2 format", self.model_path)
        log.info("Loaded %s (%s threads, template: %s)", self.model_path.name, self.n_threads, self.template_source)

    # -- streaming ---------------------------------------------------------------------------------

    def stream(self, messages: Sequence[ChatMessage], *, cancel: threading.Event | None = None) -> Iterator[str]:
        """Yield reply pieces as they are decoded; stop (and free the decoder) when ``cancel`` is set."""
        yield from self._stream_chat(messages, cancel=cancel)

    def _stream_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        cancel: threading.Event | None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        grammar: str | None = None,
        json_schema: dict[str, Any] | None = None,
        options: GenerationOptions | None = None,
        outcome: Outcome | None = None,
    ) -> Iterator[str]:
        if not messages:
            raise ConfigError("There is nothing to answer: the conversation is empty.",
                              hint="Send at least one user message.")
        if grammar is not None and json_schema is not None:
            raise ConfigError("Give either a grammar or a JSON schema, not both.",
                              hint="Drop one of the two constraints.")
        kwargs: dict[str, Any] = {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
            "max_tokens": max_tokens or self.settings.max_tokens,
            "temperature": self.settings.temperature if temperature is None else temperature,
            # free chat only: a penalty on repeated tokens would fight a grammar's quotes and braces
            "repeat_penalty": self.settings.repeat_penalty if grammar is None and json_schema is None else 1.0,
        }
        if grammar is not None:
            kwargs["grammar"] = self._grammar(grammar)
        if json_schema is not None:
            kwargs["grammar"] = self._grammar(self._schema_grammar(json_schema))
        if options is not None:
            kwargs.update(_sampling(options))
        if cancel is not None and cancel.is_set():
            return
        self._llm.cancel_event = cancel
        self._llm.outcome = outcome
        chunks = self._llm.create_chat_completion(**kwargs)
        try:
            for chunk in chunks:
                if cancel is not None and cancel.is_set():
                    log.debug("LLM generation cancelled")
                    return
                choice = chunk["choices"][0]  # type: ignore[index]
                piece = choice["delta"].get("content")  # type: ignore[union-attr]
                if piece:
                    yield piece
                if outcome is not None and choice.get("finish_reason"):  # type: ignore[union-attr]
                    outcome.finish_reason = str(choice["finish_reason"])
        except PromptCancelled as stopped:
            log.debug("LLM generation cancelled while reading the prompt (%s)", stopped)
        except ValueError as err:
            if "exceed context window" not in str(err):
                raise
            raise ContextLengthError(
                f"The conversation is longer than the model's context window ({self.settings.n_ctx} tokens): {err}.",
                hint="Send fewer or shorter messages, or raise [llm] n_ctx in the settings.",
            ) from None
        finally:
            self._llm.cancel_event = None
            self._llm.outcome = None
            chunks.close()  # type: ignore[union-attr]

    def _stream_completion(
        self,
        prompt: str,
        *,
        cancel: threading.Event | None,
        grammar: str | None,
        max_tokens: int,
        temperature: float,
        stop: list[str] | None,
    ) -> Iterator[str]:
        kwargs: dict[str, Any] = {
            "prompt": prompt,
            "stream": True,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stop": stop or [],
        }
        if grammar is not None:
            kwargs["grammar"] = self._grammar(grammar)
        if cancel is not None and cancel.is_set():
            return
        self._llm.cancel_event = cancel
        chunks = self._llm.create_completion(**kwargs)
        try:
            for chunk in chunks:
                if cancel is not None and cancel.is_set():
                    return
                piece = chunk["choices"][0]["text"]  # type: ignore[index]
                if piece:
                    yield piece
        except PromptCancelled as stopped:
            log.debug("LLM completion cancelled while reading the prompt (%s)", stopped)
        finally:
            self._llm.cancel_event = None
            chunks.close()  # type: ignore[union-attr]

    @staticmethod
    def _schema_grammar(schema: dict[str, Any]) -> str:
        from engines.llm.grammar import schema_to_gbnf

        try:
            return schema_to_gbnf(schema)
        except (ValueError, KeyError, TypeError, AssertionError) as err:
            raise ConfigError(f"The JSON schema cannot be turned into a grammar: {err}.",
                              hint="Use plain JSON-schema types, lengths and patterns (and x-contains on strings).") \
                from err

    def _grammar(self, grammar: str) -> Any:
        import llama_cpp

        # llama.cpp crashes the process when a grammar that does not parse reaches its sampler chain,
        # so parse it once here first (a NULL sampler means a parse error, printed by llama.cpp on stderr)
        vocab = llama_cpp.llama_model_get_vocab(self._llm.model)
        sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), b"root")
        if not sampler:
            raise ConfigError(
                "The GBNF grammar could not be parsed.",
                hint="Check its syntax: every rule it uses must be defined, starting with `root ::= ...`.",
            )
        llama_cpp.llama_sampler_free(sampler)
        return llama_cpp.LlamaGrammar.from_string(grammar, verbose=False)

    def generate(
        self,
        messages: Sequence[ChatMessage],
        *,
        options: GenerationOptions,
        outcome: Outcome | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        """Stream a chat reply with an OpenAI request's sampling ``options``; ``outcome`` gets the finish reason
        and token counts. Raises ContextLengthError when the prompt does not fit in ``n_ctx``.

        At temperature 0 the reply is reproducible: the prompt is read from the start instead of reusing the
        cached prefix of the previous request, because llama.cpp's logits differ in their last bits with how the
        prompt was batched (greedy decoding of the same request then parted after ~15 words on SmolLM2)."""
        if options.temperature == 0:
            self._llm.reset()
        yield from self._stream_chat(
            messages, cancel=cancel, max_tokens=options.max_tokens, temperature=options.temperature,
            json_schema=options.json_schema, options=options, outcome=outcome,
        )

    # -- whole answers (copy studio) -----------------------------------------------------------------

    def complete(
        self,
        prompt: str,
        *,
        grammar: str | None = None,
        max_tokens: int = 256,
        temperature: float = 0.7,
        stop: list[str] | None = None,
        cancel: threading.Event | None = None,
    ) -> str:
        """Plain text completion of ``prompt`` (no chat template), optionally constrained by a GBNF grammar."""
        return "".join(
            self._stream_completion(
                prompt, cancel=cancel, grammar=grammar, max_tokens=max_tokens, temperature=temperature, stop=stop
            )
        )

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        grammar: str | None = None,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        cancel: threading.Event | None = None,
    ) -> str:
        """The whole chat reply; ``grammar`` (GBNF) or ``json_schema`` constrain its form."""
        return "".join(
            self._stream_chat(
                messages,
                cancel=cancel,
                max_tokens=max_tokens,
                temperature=temperature,
                grammar=grammar,
                json_schema=json_schema,
            )
        )

    # -- has the user finished? ------------------------------------------------------------------------

    def sentence_end_probability(self, messages: Sequence[ChatMessage]) -> float | None:
        """How likely the last message's words (without their trailing punctuation) end a sentence, from the
        model's next token after them (``engines.llm.sentence_end``). None when there is no embedded chat
        template to render the prompt with, or nothing to judge.

        The reply's own prompt is read here in one pass, with the logits kept at two places: after the
        words (the judgement) and at the end (the reply's first token), so the reply that follows starts
        at once from the cache. Where the words do not tokenise as a prefix of that prompt, only the
        prompt up to the words is read, and the reply reads the rest."""
        import numpy as np

        words = bare_words(messages[-1].content) if messages else ""
        formatter = self._formatter()
        if not words or formatter is None:
            return None
        given = [{"role": m.role, "content": m.content} for m in messages]
        bare = formatter(messages=[*given[:-1], {"role": given[-1]["role"], "content": words}]).prompt
        prefix = prompt_up_to_words(bare, words)
        if prefix is None:
            return None
        llm = self._llm
        tokens = llm.tokenize(prefix.encode("utf-8"), add_bos=False, special=True)
        after = llm.tokenize(bare[len(prefix):].encode("utf-8"), add_bos=False, special=True)[:1]
        whole = llm.tokenize(formatter(messages=given).prompt.encode("utf-8"), add_bos=False, special=True)
        if len(whole) >= self.settings.n_ctx:
            return None
        if whole[: len(tokens)] == tokens:
            logits = self._read_prompt(whole, keep=len(tokens) - 1)
        else:
            logits = self._read_prompt(tokens, keep=len(tokens) - 1)
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        ends = set(self._final_tokens()) | set(after) | {llm.token_eos()}
        return float(probabilities[sorted(ends)].sum())

    def _read_prompt(self, tokens: list[int], *, keep: int) -> Any:
        """Evaluate ``tokens`` (reusing the cached prefix) and return the logits after position ``keep``, as
        llama-cpp-python's own ``eval`` would leave the cache: the next ``generate`` of exactly these tokens
        samples from the last position at once."""
        import llama_cpp
        import numpy as np

        llm = self._llm
        cached = 0
        for had, want in zip(llm._input_ids, tokens, strict=False):
            if had != want:
                break
            cached += 1
        start = min(cached, keep)  # the kept position must be decoded now to have its logits
        llm.n_tokens = start
        llm._ctx.kv_cache_seq_rm(-1, start, -1)
        kept: Any = None
        for at in range(start, len(tokens), llm.n_batch):
            chunk = tokens[at: at + llm.n_batch]
            llm._batch.set_batch(batch=chunk, n_past=at, logits_all=False)  # logits at the chunk's last token
            inside = keep - at
            if 0 <= inside < len(chunk):
                llm._batch.batch.logits[inside] = True
            llm._ctx.decode(llm._batch)
            llm.input_ids[at: at + len(chunk)] = chunk
            llm.n_tokens = at + len(chunk)
            if 0 <= inside < len(chunk):
                row = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, inside)
                kept = np.ctypeslib.as_array(row, shape=(llm.n_vocab(),)).astype(np.float64)
        llm._requires_eval = False  # the last position's logits are live: generate may sample from them
        return kept

    def _formatter(self) -> Any:
        """The Jinja chat formatter of the GGUF's embedded template (what llama-cpp-python renders with)."""
        if self.settings.chat_format or not self.has_template:
            return None
        if self._jinja is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            model = self._llm._model
            eos, bos = self._llm.token_eos(), self._llm.token_bos()
            self._jinja = Jinja2ChatFormatter(
                template=self._llm.metadata["tokenizer.chat_template"],
                eos_token=model.token_get_text(eos) if eos != -1 else "",
                bos_token=model.token_get_text(bos) if bos != -1 else "",
                stop_token_ids=[eos],
            )
        return self._jinja

    def _final_tokens(self) -> list[int]:
        if self._final is None:
            llm = self._llm
            self._final = final_punctuation_tokens(
                llm.n_vocab(), lambda token: llm.detokenize([token]).decode("utf-8", "ignore"))
        return self._final

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model (to keep the conversation inside ``n_ctx``)."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    # -- doctor ------------------------------------------------------------------------------------

    def _device(self) -> tuple[str, str]:
        layers = self.settings.n_gpu_layers
        if not self.gpu_offload_supported:
            return "cpu", (
                "this llama.cpp build has no GPU support (reinstall llama-cpp-python with "
                'CMAKE_ARGS="-DGGML_CUDA=on" to use an NVIDIA GPU)'
            )
        if layers == 0:
            return "cpu", "[llm] n_gpu_layers = 0 in the settings (set -1 to offload every layer)"
        return "gpu", f"offloading {'all' if layers < 0 else layers} layers ([llm] n_gpu_layers = {layers})"

    def info(self) -> EngineInfo:
        device, reason = self._device()
        return EngineInfo(
            role="llm",
            name="llama-cpp",
            model=self.settings.model if self.settings.model in shipped_llm_names() else self.model_path.name,
            model_path=str(self.model_path),
            version=f"llama-cpp-python {self._version}",
            device=device,
            device_reason=reason,
            details={
                "gpu_offload_supported": str(self.gpu_offload_supported),
                "n_gpu_layers": str(self.settings.n_gpu_layers),
                "n_threads": str(self.n_threads),
                "n_ctx": str(self.settings.n_ctx),
                "chat_template": self.template_source,
            },
        )
