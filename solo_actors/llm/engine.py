"""The llama.cpp side of the llm actor: loading, tokens, KV-cache reuse, the generation loop.

Weights are loaded once per process: `load_model` keeps each `Llama` in a module-level cache
keyed by path and context settings, so a supervisor restart of the actor finds the model
already in memory (about a second saved per restart for the 0.5B model). Only a failure that
says the model itself is broken (`ModelBroken`) makes the actor drop it (`drop_model`). Each
cached model has a lock that every KV-cache operation holds, so two actors started on the
same settings take turns on the one context instead of corrupting it.

Prompt evaluation is driven at the token level. llama.cpp keeps the KV cache of the last
sequence it evaluated (``Llama.input_ids[:n_tokens]``); `Engine.stream` keeps the longest
common prefix of that and the new prompt, removes the rest from the KV cache, and evaluates
only the new suffix, so the counted ``prompt_eval_tokens`` is exact rather than estimated.
`Engine.snapshot`/`Engine.restore` copy one sequence's KV cells (llama_state_seq_*), not the
whole context state with its logits, so switching between conversations costs a memcpy of
about 12 KB per token of history (0.5B model) instead of a re-evaluation.

`Engine.write_ahead` begins a reply before it is asked for (LiveKit's "preemptive
generation"): the reply's first tokens are sampled and the generation left suspended, with
its sampler and KV cells; a `stream` of the same prompt and decoding settings yields them at
once and resumes it. Anything else that touches the KV cache drops it first.
"""

from __future__ import annotations

import codecs
import ctypes
import os
import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field

import llama_cpp
import numpy as np
from llama_cpp import Llama

from solo_actors.llm.lookup import draft

SEQUENCE = 0
"""The one llama.cpp sequence the high-level `Llama` object evaluates into."""

MAX_DRAFT_TOKENS = 8
"""The most tokens ``llm.draft_tokens`` may guess after each one."""


class ModelBroken(RuntimeError):
    """llama.cpp failed while evaluating: the loaded model or its context is not usable."""


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """What a loaded `Llama` depends on; the key of the per-process model cache."""

    path: str
    n_ctx: int
    n_batch: int
    n_threads: int
    gpu_layers: int = 0


@dataclass(frozen=True, slots=True)
class Sampling:
    temperature: float
    top_p: float
    top_k: int
    repeat_penalty: float
    seed: int
    max_tokens: int
    stop: tuple[str, ...] = ()
    """Strings that end the reply (applied to the text by the actor's sanitiser)."""
    draft_tokens: int = 0
    """Tokens guessed by prompt lookup after each one (`lookup`); 0: none."""

    @property
    def decoding(self) -> tuple[float, float, int, float, int, int]:
        """What picks the tokens (not where the reply stops, which `stream` decides): a
        reply written ahead with the same values is the one a request would write."""
        return (self.temperature, self.top_p, self.top_k, self.repeat_penalty, self.seed,
                self.draft_tokens)  # fmt: skip

    @property
    def repeatable(self) -> bool:
        """Greedy decoding, or sampling from a fixed seed: the same prompt, the same reply."""
        return self.temperature == 0 or self.seed >= 0


@dataclass(frozen=True, slots=True)
class Threads:
    """llama.cpp threads for each phase of a request (``llm.n_threads``; see `thread_counts`)."""

    prompt: int
    """Reading the prompt: nothing else of a turn runs then."""
    generating: int
    """Generating a reply nobody listens to as it streams (text, the API, agents)."""
    beside_speech: int
    """Generating a reply once tts started speaking it (`SpeechStarted`)."""


@dataclass(slots=True, eq=False)
class WrittenAhead:
    """A reply begun before its request (`Engine.write_ahead`): the tokens sampled so far,
    the suspended generation that continues it, and the prompt and decoding it follows."""

    prompt: np.ndarray
    decoding: tuple[float, float, int, float, int, int]
    tokens: list[int]
    generation: Generator[int, None, None]
    counts: Generation
    """The guessed tokens it evaluated (`lookup`), added to the request's when it is used."""

    def matches(self, prompt: np.ndarray, sampling: Sampling) -> bool:
        return sampling.decoding == self.decoding and np.array_equal(prompt, self.prompt)


@dataclass(slots=True, eq=False)
class LoadedModel:
    """A `Llama` shared by whoever loads the same settings in this process."""

    llama: Llama
    threads: Threads
    batch: llama_cpp.llama_batch
    """Room for one token and ``MAX_DRAFT_TOKENS`` guessed ones (`Engine._decode`)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    """Held while the KV cache is read or changed: one context serves one caller at a
    time, even if two actors were started on the same model."""
    logits_after: int = -1
    """The context's last logits follow this many tokens of the KV cache (a read prompt's
    last): a request for exactly that prompt samples from them, evaluating nothing. -1:
    they follow nothing a request can use (a generation's batches, a restore, a reset)."""
    ahead: WrittenAhead | None = None
    """A reply written ahead and suspended (`Engine.write_ahead`); only valid while
    nothing else has touched the KV cache, so every other operation drops it first."""


_models: dict[ModelSettings, LoadedModel] = {}
_models_lock = threading.Lock()


def thread_counts(n_threads: int) -> Threads:
    """The threads of each phase for ``llm.n_threads`` (N: N for all of them).

    0 (auto) uses every core, except for the rest of a reply once tts says it started
    speaking it (`SpeechStarted`, after its first chunk): tts then speaks that chunk, and
    llama.cpp's threads meet at a barrier every layer, so one of them waiting for the core
    tts took stalls them all. Until then nothing else runs, and every core writes the first
    chunk sooner than fewer would (docs/llm.md, Threads; figures in bench/RESULTS.md).
    """
    if n_threads:
        return Threads(n_threads, n_threads, n_threads)
    cores = os.cpu_count() or 1
    return Threads(prompt=cores, generating=cores, beside_speech=max(1, cores - 1))


def load_model(settings: ModelSettings) -> LoadedModel:
    """The process's model for `settings`, loading it on first use."""
    with _models_lock:
        model = _models.get(settings)
        if model is None:
            threads = thread_counts(settings.n_threads)
            llama = Llama(
                model_path=settings.path,
                n_ctx=settings.n_ctx,
                n_batch=settings.n_batch,
                n_ubatch=settings.n_batch,
                n_threads=threads.generating,
                n_threads_batch=threads.prompt,
                n_gpu_layers=settings.gpu_layers,
                verbose=False,
            )
            batch = llama_cpp.llama_batch_init(MAX_DRAFT_TOKENS + 1, 0, 1)
            model = _models[settings] = LoadedModel(llama, threads, batch)
        return model


def drop_model(settings: ModelSettings) -> None:
    """Forget (and free) a loaded model, so the next `load_model` reads the file again."""
    with _models_lock:
        model = _models.pop(settings, None)
    if model is not None:
        model.llama.close()
        llama_cpp.llama_batch_free(model.batch)


@dataclass(frozen=True, slots=True, eq=False)
class KVSnapshot:
    """One sequence's KV cells and the tokens they encode."""

    tokens: np.ndarray
    data: ctypes.Array[ctypes.c_uint8]

    @property
    def nbytes(self) -> int:
        return len(self.data) + self.tokens.nbytes


@dataclass(slots=True)
class Generation:
    """What one `Engine.stream` call did; filled in while it runs."""

    prompt_tokens: int
    prompt_eval_tokens: int = 0
    tokens: list[int] = field(default_factory=list)
    """The reply's tokens (end-of-turn and control tokens excluded)."""
    finish_reason: str = "stop"
    drafted: int = 0
    """Tokens guessed by prompt lookup and evaluated (`lookup`)."""
    draft_accepted: int = 0
    """Of those, the ones the model picked too: tokens it did not generate one at a time."""
    written_ahead: int = 0
    """Tokens of the reply that were written before its request came (`Engine.write_ahead`)."""


def common_prefix(a: np.ndarray, b: np.ndarray) -> int:
    """Length of the common prefix of two token arrays."""
    n = min(len(a), len(b))
    mismatch = np.flatnonzero(a[:n] != b[:n])
    return int(mismatch[0]) if mismatch.size else n


class Engine:
    """One loaded model as the actor uses it: tokenise, generate, save and restore KV."""

    def __init__(self, model: LoadedModel) -> None:
        llama = self.llama = model.llama
        self._model = model
        self._lock = model.lock
        self._batch = model.batch
        self.threads = model.threads
        self.metadata: dict[str, str] = dict(llama.metadata)
        # llama.cpp may round the context up (to a multiple of 256), but llama-cpp-python
        # sizes its token buffer to the n_ctx asked for: the smaller one is the real limit.
        self.n_ctx = min(llama.n_ctx(), len(llama.input_ids))
        handle = llama._model  # the vocabulary handle; llama-cpp-python has no public getter
        self._vocab = handle.vocab
        self._add_bos = handle.add_bos_token()
        self.bos_token = self._token_text(llama.token_bos())
        self.eos_token = self._token_text(llama.token_eos())

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return llama_cpp.llama_vocab_get_text(self._vocab, token).decode("utf-8", "replace")

    def reset(self) -> None:
        """Forget the KV cache: the next prompt is evaluated from its first token."""
        with self._lock:
            self._drop_ahead()
            self.llama.reset()
            self._model.logits_after = -1

    def tokenize(self, text: str, *, start: bool) -> list[int]:
        """Tokens of prompt text (special markers parsed). `start`: the text begins a
        prompt, so it gets the model's BOS token unless the template already wrote it."""
        written = bool(self.bos_token) and text.startswith(self.bos_token)
        add_bos = start and self._add_bos and not written
        return self.llama.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)

    def detokenize(self, tokens: Sequence[int]) -> str:
        return self.llama.detokenize(list(tokens)).decode("utf-8", "replace")

    @property
    def live_tokens(self) -> np.ndarray:
        """The tokens whose KV is in the cache now."""
        return self.llama.input_ids[: self.llama.n_tokens]

    def snapshot(self) -> KVSnapshot:
        ctx = self.llama.ctx
        with self._lock:
            size = llama_cpp.llama_state_seq_get_size(ctx, SEQUENCE)
            data = (ctypes.c_uint8 * size)()
            written = llama_cpp.llama_state_seq_get_data(ctx, data, size, SEQUENCE)
            if written != size:
                raise ModelBroken(f"KV snapshot wrote {written} of {size} bytes")
            return KVSnapshot(tokens=self.live_tokens.copy(), data=data)

    def restore(self, snapshot: KVSnapshot) -> bool:
        """Make `snapshot` the live KV cache (llama.cpp clears the sequence first); False
        if llama.cpp refused it, and the cache is then empty."""
        size = len(snapshot.data)
        with self._lock:
            self._drop_ahead()
            self._model.logits_after = -1  # they follow the sequence replaced
            loaded = llama_cpp.llama_state_seq_set_data(
                self.llama.ctx, snapshot.data, size, SEQUENCE
            )
            if loaded != size:
                # A failed restore leaves the cache undefined; start from nothing instead.
                self.llama.reset()
                return False
            count = len(snapshot.tokens)
            self.llama.input_ids[:count] = snapshot.tokens
            self.llama.n_tokens = count
            return True

    def _reuse_prefix(self, tokens: np.ndarray) -> int:
        """Keep the longest cached prefix of `tokens` and drop the rest of the KV cache;
        returns its length. That is all of `tokens` when they are what the cache holds and
        the context's logits follow them (a prefill of this very prompt was the last thing
        read); else at least one token is left to evaluate, for fresh logits."""
        common = common_prefix(self.live_tokens, tokens)
        if common == len(tokens) == self.llama.n_tokens == self._model.logits_after:
            return common
        keep = min(common, len(tokens) - 1)
        memory = llama_cpp.llama_get_memory(self.llama.ctx)
        if keep > 0 and llama_cpp.llama_memory_seq_rm(memory, -1, keep, -1):
            self.llama.n_tokens = keep
            return keep
        # No reusable prefix, or a recurrent model that can't drop a tail.
        self.llama.reset()
        return 0

    def _set_threads(self, count: int) -> None:
        """Threads for single tokens and for batches of drafted ones alike (llama.cpp takes
        a batch's count for a batch); `prefill` and a prompt read `threads.prompt`."""
        llama_cpp.llama_set_n_threads(self.llama.ctx, count, count)

    def _read_prompt(self, tokens: Sequence[int]) -> None:
        """Evaluate prompt tokens after the KV cache's; the logits then follow the last."""
        if not tokens:
            return  # the logits follow the cache's last token already (`_reuse_prefix`)
        llama_cpp.llama_set_n_threads(self.llama.ctx, self.threads.generating, self.threads.prompt)
        self._model.logits_after = -1  # until the evaluation is whole
        self.llama.eval(list(tokens))
        self._model.logits_after = self.llama.n_tokens

    def prefill(self, tokens: Sequence[int]) -> int:
        """Read `tokens` into the KV cache (after the prefix it holds already) and generate
        nothing, so that a `stream` of the same prompt evaluates nothing and samples its
        first token at once; returns how many were evaluated."""
        with self._lock:
            self._drop_ahead()
            prompt = np.asarray(tokens, dtype=np.intc)
            reused = self._reuse_prefix(prompt)
            try:
                self._read_prompt(prompt[reused:].tolist())
            except RuntimeError as error:
                raise ModelBroken(f"llama.cpp failed while reading a prompt: {error}") from error
            return len(prompt) - reused

    def _drop_ahead(self) -> None:
        """Forget the reply written ahead, if any (its KV cells are left as they are)."""
        ahead, self._model.ahead = self._model.ahead, None
        if ahead is not None:
            ahead.generation.close()  # frees its sampler

    def write_ahead(
        self, tokens: Sequence[int], sampling: Sampling, go_on: Callable[[], bool], limit: int
    ) -> int:
        """Begin the reply to `tokens` before anyone asks for it: sample up to `limit` of its
        tokens while `go_on()` (asked before each) holds, and keep the generation suspended
        for a `stream` of the same prompt and decoding (`WrittenAhead`). Returns how many
        were written. The reply is the one `stream` would write: the same sampler chain,
        its state carried across the pause."""
        with self._lock:
            self._drop_ahead()
            prompt = np.asarray(tokens, dtype=np.intc)
            counts = Generation(prompt_tokens=len(prompt))
            generation, _ = self._begin(prompt, sampling, counts)
            written: list[int] = []
            try:
                while len(written) < min(limit, sampling.max_tokens) and go_on():
                    written.append(next(generation))
                    if llama_cpp.llama_vocab_is_eog(self._vocab, written[-1]):
                        break
            except RuntimeError as error:
                generation.close()
                raise ModelBroken(f"llama.cpp failed while writing ahead: {error}") from error
            if not written:
                generation.close()
                return 0
            self._model.ahead = WrittenAhead(prompt, sampling.decoding, written, generation,
                                             counts)  # fmt: skip
            return len(written)

    def _resume_ahead(
        self, prompt: np.ndarray, sampling: Sampling, result: Generation
    ) -> Generator[int, None, None] | None:
        """The reply written ahead for exactly this prompt and decoding, its tokens so far
        then the rest (None if there is none): `stream` reads nothing more of the prompt."""
        ahead = self._model.ahead
        if ahead is None or not ahead.matches(prompt, sampling):
            self._drop_ahead()
            return None
        self._model.ahead = None  # taken up: the stream owns (and closes) its generation
        result.written_ahead = len(ahead.tokens)

        def resumed() -> Generator[int, None, None]:
            try:
                yield from ahead.tokens
                yield from ahead.generation
            finally:
                ahead.generation.close()
                result.drafted += ahead.counts.drafted
                result.draft_accepted += ahead.counts.draft_accepted

        return resumed()

    def stream(
        self,
        tokens: Sequence[int],
        sampling: Sampling,
        cancelled: Callable[[], bool],
        result: Generation,
        speaking: Callable[[], bool] = lambda: False,
    ) -> Generator[str, None, None]:
        """Generate a reply to `tokens`, yielding decoded text pieces as they come.

        Stops at an end-of-generation token, at a control token after some text (a new
        turn starting), at ``sampling.max_tokens``, or when `cancelled()` turns true; it is
        asked once per token, so cancellation takes effect within one token. `result`
        says which, and what was evaluated. Generation drops to ``threads.beside_speech``
        once `speaking()` turns true (tts started speaking the reply), asked per piece.
        A reply written ahead for this very prompt and decoding (`write_ahead`) is taken up
        where it stopped: nothing of the prompt is read, and its tokens come at once.
        """
        with self._lock:
            llama = self.llama
            prompt = np.asarray(tokens, dtype=np.intc)
            leave_a_core = self.threads.beside_speech != self.threads.generating
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            generator = self._resume_ahead(prompt, sampling, result)
            if generator is None:
                generator, reused = self._begin(prompt, sampling, result)
                result.prompt_eval_tokens = len(prompt) - reused
            try:
                # Every sampled token takes a KV cell, skipped ones too: `steps` (not the
                # reply's length) is what max_tokens bounds, so the context can't overflow.
                for steps, token in enumerate(generator, start=1):
                    if cancelled():
                        result.finish_reason = "cancelled"
                        break
                    if llama_cpp.llama_vocab_is_eog(self._vocab, token):
                        break
                    if llama_cpp.llama_vocab_is_control(self._vocab, token):
                        if result.tokens:
                            break
                        # Else a turn header echoed before any text: skip it.
                    else:
                        result.tokens.append(token)
                        if piece := decoder.decode(llama.detokenize([token])):
                            if leave_a_core and speaking():
                                # tts synthesises the reply's first chunk now.
                                self._set_threads(self.threads.beside_speech)
                                leave_a_core = False
                            yield piece
                    if steps >= sampling.max_tokens:
                        result.finish_reason = "length"
                        break
            except RuntimeError as error:
                # llama-cpp-python raises RuntimeError when llama_decode fails.
                raise ModelBroken(f"llama.cpp failed while generating: {error}") from error
            finally:
                generator.close()
            if tail := decoder.decode(b"", final=True):
                yield tail

    def _begin(
        self, prompt: np.ndarray, sampling: Sampling, result: Generation
    ) -> tuple[Generator[int, None, None], int]:
        """A generation of the reply to `prompt` (`_tokens`), after the longest prefix the
        KV cache holds, which it returns too; the sampler seeded as `sampling` says."""
        reused = self._reuse_prefix(prompt)
        self.llama.set_seed(sampling.seed if sampling.seed >= 0 else llama_cpp.LLAMA_DEFAULT_SEED)
        return self._tokens(prompt[reused:].tolist(), sampling, result), reused

    def _tokens(
        self, prompt: list[int], sampling: Sampling, result: Generation
    ) -> Generator[int, None, None]:
        """The reply's tokens after reading `prompt` (the part not in the KV cache yet), one
        at a time, each yielded before it is evaluated (as ``Llama.generate`` does).

        After each token, up to ``sampling.draft_tokens`` guessed ones (`lookup.draft`) are
        evaluated with it in one batch; the sampler then picks at each position in turn,
        and the guesses up to the first it did not pick are kept, as if written one by one.
        """
        llama = self.llama
        # The sampler chain Llama.generate builds for these settings, so a reply is the
        # same with guesses as without.
        sampler = llama._init_sampler(
            top_k=sampling.top_k,
            top_p=sampling.top_p,
            temp=sampling.temperature,
            repeat_penalty=sampling.repeat_penalty,
        )
        try:
            self._read_prompt(prompt)
            self._set_threads(self.threads.generating)
            token = llama_cpp.llama_sampler_sample(sampler.sampler, llama.ctx, -1)
            while True:
                yield token
                start = llama.n_tokens
                count = min(sampling.draft_tokens, self.n_ctx - start - 1)
                guess = draft(np.append(self.live_tokens, token), count) if count > 0 else []
                self._decode([token, *guess], start)
                result.drafted += len(guess)
                for index in range(len(guess) + 1):
                    token = llama_cpp.llama_sampler_sample(sampler.sampler, llama.ctx, index)
                    if index < len(guess) and token == guess[index]:
                        result.draft_accepted += 1
                        yield token
                        continue
                    kept = start + index + 1  # the batch's first token and the guesses kept
                    if kept < llama.n_tokens:
                        llama_cpp.llama_memory_seq_rm(
                            llama_cpp.llama_get_memory(llama.ctx), -1, kept, -1
                        )
                        llama.n_tokens = kept
                    break
        finally:
            sampler.close()

    def _decode(self, tokens: list[int], start: int) -> None:
        """Evaluate `tokens` at positions `start`... with the logits of every one kept."""
        llama = self.llama
        self._model.logits_after = -1  # a batch's logits are not a prompt's
        llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(llama.ctx), -1, start, -1)
        batch = self._batch
        batch.n_tokens = len(tokens)
        for index, token in enumerate(tokens):
            batch.token[index] = token
            batch.pos[index] = start + index  # type: ignore[call-overload]  # a c_int32 array
            batch.n_seq_id[index] = 1
            batch.seq_id[index][0] = SEQUENCE
            batch.logits[index] = True
        code = llama_cpp.llama_decode(llama.ctx, batch)
        if code != 0:
            raise RuntimeError(f"llama_decode returned {code}")
        llama.input_ids[start : start + len(tokens)] = tokens
        llama.n_tokens = start + len(tokens)
