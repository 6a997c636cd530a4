"""Grammar-constrained sampling that checks one token instead of the whole vocabulary.

llama-cpp-python puts the grammar first in its sampler chain, so every decoded token checks all
49,152 tokens of SmolLM2's vocabulary against the grammar: with a studio JSON schema that took the
decoding from 14.7 to 23.8 ms a token on one core. Like llama.cpp's own ``common_sampler``, this
sampler lets the chain without the grammar pick a token, asks the grammar about that one token, and
only when the grammar refuses it picks again from the tokens the grammar allows. Greedy decoding
picks exactly the same tokens either way; sampled tokens keep their relative odds among the
tokens the grammar allows.
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

import numpy as np

# llama_token_data: int32 id, float logit, float p (12 bytes, no padding)
_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


class TryThenGrammar:
    """A sampler with llama-cpp-python's ``LlamaSampler`` interface (``sample``, ``accept``, ``close``)."""

    def __init__(self, chain: Any, model: Any, grammar: Any, n_vocab: int) -> None:
        import llama_cpp

        self._lib = llama_cpp
        self.chain = chain  # llama_cpp._internals.LlamaSampler without the grammar
        self.grammar = llama_cpp.llama_sampler_init_grammar(
            model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8"))
        if not self.grammar:
            raise ValueError("llama.cpp could not parse the grammar")
        self.n_vocab = n_vocab
        self._ids = np.arange(n_vocab, dtype=np.int32)
        self._buffer = np.zeros(n_vocab, dtype=_TOKEN_DATA)
        self._one = (llama_cpp.llama_token_data * 1)()
        self.fallbacks = 0
        self.tokens = 0

    def _candidates(self, ctx: Any, idx: int) -> Any:
        lib = self._lib
        logits = lib.llama_get_logits_ith(ctx.ctx, idx)
        self._buffer["id"] = self._ids
        self._buffer["logit"] = np.ctypeslib.as_array(logits, shape=(self.n_vocab,))
        self._buffer["p"] = 0.0
        return lib.llama_token_data_array(
            data=self._buffer.ctypes.data_as(lib.llama_token_data_p), size=self.n_vocab, selected=-1, sorted=False)

    def _allowed(self, token: int) -> bool:
        lib = self._lib
        self._one[0].id, self._one[0].logit, self._one[0].p = token, 0.0, 0.0
        single = lib.llama_token_data_array(data=self._one, size=1, selected=-1, sorted=False)
        lib.llama_sampler_apply(self.grammar, ctypes.byref(single))
        return not math.isinf(single.data[0].logit)

    def sample(self, ctx: Any, idx: int = -1) -> int:
        lib = self._lib
        candidates = self._candidates(ctx, idx)
        lib.llama_sampler_apply(self.chain.sampler, ctypes.byref(candidates))
        token = int(candidates.data[candidates.selected].id)
        self.tokens += 1
        if not self._allowed(token):
            self.fallbacks += 1
            candidates = self._candidates(ctx, idx)
            lib.llama_sampler_apply(self.grammar, ctypes.byref(candidates))
            lib.llama_sampler_apply(self.chain.sampler, ctypes.byref(candidates))
            token = int(candidates.data[candidates.selected].id)
        lib.llama_sampler_accept(self.grammar, token)
        self.chain.accept(token)
        return token

    def accept(self, token: int) -> None:
        self._lib.llama_sampler_accept(self.grammar, token)
        self.chain.accept(token)

    def reset(self) -> None:
        self._lib.llama_sampler_reset(self.grammar)
        self.chain.reset()

    def close(self) -> None:
        if self.grammar:
            self._lib.llama_sampler_free(self.grammar)
            self.grammar = None
        self.chain.close()

    def __del__(self) -> None:
        self.close()
