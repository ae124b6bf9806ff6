"""The ``memory`` actor: long-term memories, remembered as text and recalled by meaning.

`Remember` (tell) embeds the text and stores it; `Recall` (ask) embeds the query and returns
`Memories`, the nearest ``k`` above the similarity floor; `ListMemories` (ask) returns the
newest first, a page at a time (`MemoryList`); `Forget` (ask) deletes by id, by filter or
everything, and returns `Forgotten`, and tells the llm and the store `ForgetMentions` with
the user's words of what it deleted, so nothing forgotten is answered from afterwards, or
kept in the transcript. Recall is meant
to sit in front of every LLM request, so it never raises: a caller that asks with a
timeout gets `Memories` (maybe with ``error`` set) or its own timeout, and the actor
carries on either way.

The vectors live in LanceDB under var/ (embedded) or in a pgvector table (``store.backend =
"postgres"``). When the database is unreachable, remembers wait in a bounded queue
(``memory.pending_max``; newer ones past it are dropped and logged) and are written once a
reconnect, retried with backoff, succeeds. Opening the index runs on a helper thread
(importing LanceDB alone can take seconds, a PostgreSQL connect up to its timeout), so the
actor answers from its first moment: recalls meanwhile return no memories and say why.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import msgspec

import supervisors
from solo_actors.config import Config
from solo_actors.memory.embedder import Embedder, load_embedder
from solo_actors.memory.index import MemoryIndex, make_index
from solo_actors.messages import (
    EmbedTexts,
    Forget,
    ForgetMentions,
    Forgotten,
    GetMemoryStatus,
    ListMemories,
    Memories,
    MemoryFilter,
    MemoryList,
    MemoryStatus,
    Recall,
    Remember,
    StoreFailure,
    TextsEmbedded,
)
from solo_actors.models import resolve_model
from solo_actors.names import LLM_NAME, MEMORY_NAME, STORE_NAME
from solo_actors.runtime.logs import get_logger
from solo_actors.store.backend import StoreError, StoreUnavailable
from solo_actors.store.text import clean_text

OPEN_POLL = 0.05
"""Seconds between looks at an index being opened in the background."""
PURGE_AFTER = 1.0
"""Seconds after a forget before the index's files are rewritten without it: one rewrite
for a burst of forgets (each is whole-table work, and one per forget left LanceDB in many
more fragments)."""


class _Retry(msgspec.Struct, frozen=True):
    """Timer: reconnect and write the waiting remembers."""


class _Maintain(msgspec.Struct, frozen=True):
    """Timer: compact the index, and start an index build if it needs one."""


class _Purge(msgspec.Struct, frozen=True):
    """Timer: rewrite the index's files without what was forgotten (`MemoryIndex.purge`)."""


class _IndexBuilt(msgspec.Struct, frozen=True):
    """From the helper thread: the index build ended (well or not)."""


class MemoryActor(supervisors.SupervisedActor):
    contained = (Recall, ListMemories, EmbedTexts, GetMemoryStatus)
    """The reads: a bug one of them finds (a client chose the query and filter) fails that
    request alone, rather than a restart that reopens the index under every other caller.
    They change nothing but the write of the pending remembers, which a failure leaves
    queued."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.settings = config.memory
        self.log = get_logger(MEMORY_NAME)
        self.embedder: Embedder | None = None
        self.index: MemoryIndex | None = None
        self.up = False
        self.last_error: str | None = None
        self.pending: deque[Remember] = deque()
        self.dropped = 0
        self.attempt = 0
        self.retry_pending = False
        self.opener = ThreadPoolExecutor(max_workers=1, thread_name_prefix="memory-open")
        self.opening: Future[None] | None = None
        self.building: Future[None] | None = None
        self.maintenance_runs = 0
        self.maintaining = False
        self.purge_due = False

    def on_start(self) -> None:
        if not self.settings.enabled:
            return
        model = resolve_model(self.settings.model, self.config.models, role="embeddings")
        self.embedder = load_embedder(
            model.path, self.settings.max_tokens, self.settings.batch_size, self.settings.threads,
            self.settings.batch_tokens, self.settings.spin,
        )  # fmt: skip
        self.index = make_index(self.config, self.embedder.dimensions)
        self._connect()

    def on_stop(self) -> None:
        self.opener.shutdown(wait=True, cancel_futures=True)
        self._finish_build()
        if self.opening is not None and self.opening.done():
            self._connect()  # an open that finished meanwhile: write what waits
        if self.index is not None:
            self._write_pending()
            if self.purge_due:
                self._purge()  # its timer dies with the actor
            if self.pending:
                self.log.error("memory database unavailable at stop: remembers lost",
                               count=len(self.pending), error=self.last_error)  # fmt: skip
            self.index.close()

    def on_failure(self, *exc_info: Any) -> None:
        # A crash ends this actor as a stop does: without the same clean-up each restart
        # leaves its opener thread and the index's files behind (the chaos suite saw it),
        # and the remembers still waiting are written rather than lost.
        self.on_stop()

    def on_receive(self, message: Any) -> Any:
        match message:
            case Remember():
                self._remember(message)
            case Recall():
                return self._recall(message)
            case ListMemories():
                return self._list(message)
            case Forget():
                return self._forget(message)
            case EmbedTexts():
                return self._embed(message)
            case _Retry():
                self.retry_pending = False
                self._connect()
            case _Maintain():
                self._maintain()
            case _Purge():
                self._purge()
            case _IndexBuilt():
                self._finish_build()
                self._write_pending()
            case GetMemoryStatus():
                index = self.index if self.up else None
                return MemoryStatus(
                    ready=self.up, memories=index.count() if index is not None else 0,
                    pending=len(self.pending), dropped=self.dropped, last_error=self.last_error,
                    maintenance_runs=self.maintenance_runs, indexing=self.building is not None,
                    layout=index.layout() if index is not None else {},
                )  # fmt: skip
        return None

    # -- requests -----------------------------------------------------------------------------

    def _remember(self, message: Remember) -> None:
        if self.index is None:
            return  # memory.enabled is false
        text = clean_text(message.text, "memory.text", self.settings.max_text_bytes)
        if not text.strip():
            self.log.warning("empty memory ignored", memory_id=message.memory_id)
            return
        if len(self.pending) >= self.settings.pending_max:
            self.dropped += 1
            self.log.error("memory queue full (database down or index build running): "
                           "remember dropped", limit=self.settings.pending_max,
                           dropped=self.dropped)  # fmt: skip
            return
        self.pending.append(msgspec.structs.replace(message, text=text))
        self._write_pending()

    def _write_pending(self) -> None:
        if not (self.up and self.pending) or self.building is not None:
            return  # an index build is running: writes wait for it (see `_maintain`)
        assert self.index is not None and self.embedder is not None
        batch = list(self.pending)
        try:
            self.index.add(batch, self.embedder.embed([m.text for m in batch]))
        except StoreUnavailable as error:
            self._went_down(error)
            return
        self.pending.clear()
        self.publish_figures(memories_pending=0)

    def _embed(self, request: EmbedTexts) -> TextsEmbedded | StoreFailure:
        """The embedder's vectors, for the API's /v1/embeddings: the same model and
        settings that memories are stored and recalled with."""
        if self.embedder is None:
            return StoreFailure(message="memory is disabled (memory.enabled = false): no "
                                "embedder is loaded; enable it to embed texts")  # fmt: skip
        token_ids = self.embedder.encode(request.texts)
        vectors = self.embedder.embed_tokens(token_ids)
        return TextsEmbedded(vectors=vectors.astype("<f4").tobytes(),
                             dimensions=self.embedder.dimensions,
                             tokens=sum(len(ids) for ids in token_ids),
                             model=self.settings.model)  # fmt: skip

    def _recall(self, request: Recall) -> Memories:
        if self.index is None:
            return Memories(items=[], error=None if not self.settings.enabled else "not ready")
        if not self.up:
            why = self.last_error or "the memory index is still opening"
            return Memories(items=[], error=f"memory unavailable: {why}")
        assert self.embedder is not None
        query = clean_text(request.query, "recall.query", self.settings.max_text_bytes)
        k = request.k or self.settings.recall_k
        if not 1 <= k <= 100:
            return Memories(items=[], error=f"k must be 1..100, got {k}")
        floor = self.settings.min_similarity
        if request.min_similarity is not None:
            floor = request.min_similarity
        try:
            vector = self.embedder.embed([query])[0]
            return Memories(items=self.index.search(vector, k, request.filter, floor))
        except StoreUnavailable as error:
            self._went_down(error)
            return Memories(items=[], error=str(error))
        except StoreError as error:
            return Memories(items=[], error=str(error))

    def _unavailable(self) -> str | None:
        """Why the index cannot be read or written now; None when it can."""
        if self.index is not None and self.up:
            return None
        if self.index is None:
            return "memory is disabled (memory.enabled = false)"
        return f"memory unavailable: {self.last_error or 'the memory index is still opening'}"

    def _list(self, request: ListMemories) -> MemoryList:
        unavailable = self._unavailable()
        if unavailable is not None:
            return MemoryList(items=[], total=0, error=unavailable)
        assert self.index is not None
        if not 1 <= request.limit <= 1000 or request.offset < 0:
            return MemoryList(items=[], total=0, error=f"limit must be 1..1000 and offset >= 0, "
                              f"got {request.limit} and {request.offset}")  # fmt: skip
        self._write_pending()  # what was told before the listing is in it
        try:
            items, total = self.index.newest(request.filter, request.limit, request.offset)
        except StoreUnavailable as error:
            self._went_down(error)
            return MemoryList(items=[], total=0, error=str(error))
        return MemoryList(items=items, total=total)

    def _forget(self, request: Forget) -> Forgotten:
        unavailable = self._unavailable()
        if unavailable is not None:
            return Forgotten(count=0, error=unavailable)
        assert self.index is not None
        selected = bool(request.memory_ids) or request.filter not in (None, MemoryFilter())
        if selected == request.everything:
            return Forgotten(
                count=0,
                error="Forget needs exactly one of: memory_ids, a filter with at least one "
                "field set, or everything=True (an empty filter is refused, not read as all)",
            )
        self._finish_build()  # a delete must not race an index build: wait for it ...
        self._write_pending()  # ... and for the remembers held meanwhile, or they'd survive it
        try:
            count, said = self.index.forget(request.memory_ids, request.filter)
        except StoreUnavailable as error:
            self._went_down(error)
            return Forgotten(count=0, error=str(error))
        if count and not self.purge_due:
            self.purge_due = True
            self.send_after(PURGE_AFTER, _Purge())
        if said:
            # Forgotten means gone from what the llm holds too (the exchange it was told in,
            # prompts it was recalled into, cached replies) and from the store's transcript.
            # An llm not running holds no history. A store restarting this very moment
            # misses it, and that is logged: the words stay in its transcript.
            for holder in (LLM_NAME, STORE_NAME):
                outcome = supervisors.cast(holder, ForgetMentions(texts=said))
                if outcome != "ok" and holder == STORE_NAME:
                    self.log.error("the store's transcript keeps what was forgotten",
                                   why=outcome, memories=len(said))  # fmt: skip
        return Forgotten(count=count)

    # -- database -----------------------------------------------------------------------------

    def _connect(self) -> None:
        assert self.index is not None
        if self.opening is None:
            self.opening = self.opener.submit(self.index.open)
        if not self.opening.done():
            self.send_after(OPEN_POLL, _Retry())
            return
        opened, self.opening = self.opening, None
        try:
            opened.result()
        except StoreUnavailable as error:
            self._went_down(error)
            return
        self.up, self.attempt, self.last_error = True, 0, None
        self.log.info("memory ready", memories=self.index.count())
        self._write_pending()
        if not self.maintaining:
            self.maintaining = True
            self.send_after(self.settings.maintenance_interval, _Maintain())

    # -- maintenance --------------------------------------------------------------------------

    def _maintain(self) -> None:
        """Compaction on the actor's thread (short: it runs every interval, so there is
        little to merge); an index build on the helper thread, since it can take a minute at
        100,000 memories. Recalls go on meanwhile (exact search over rows not yet indexed);
        remembers queue in `pending` and a forget waits, as LanceDB may refuse a write
        that races the build's commit."""
        self.send_after(self.settings.maintenance_interval, _Maintain())
        if not self.up or self.index is None or self.building is not None:
            return
        try:
            self.index.compact()
            if self.index.wants_index():
                self.log.info("memory index build started", memories=self.index.count())
                self.building = self.opener.submit(self.index.build_index)
                self.building.add_done_callback(self._tell_built)
        except StoreUnavailable as error:
            self._went_down(error)
            return
        except (RuntimeError, OSError) as error:  # LanceDB's errors; the next run retries
            self.log.warning("memory maintenance failed; retrying next interval", error=str(error))
        self.maintenance_runs += 1

    def _purge(self) -> None:
        """Rewrite the index's files without what was forgotten; after an index build (the
        next maintenance pass does it if the index is down meanwhile)."""
        self.purge_due = False
        if not self.up or self.index is None:
            return
        self._finish_build()
        try:
            self.index.purge()
        except StoreUnavailable as error:
            self._went_down(error)
        except (RuntimeError, OSError) as error:  # LanceDB's errors; compaction does it later
            self.log.warning("forgotten memories stay in the index's files until its next "
                             "compaction", error=str(error))  # fmt: skip

    def _tell_built(self, _built: Future[None]) -> None:
        """On the helper thread: wake the actor (unless it stopped, and waited, meanwhile)."""
        supervisors.cast(self.actor_ref, _IndexBuilt())

    def _finish_build(self) -> None:
        """Wait for a running index build (if any) and log how it ended."""
        if self.building is None:
            return
        built, self.building = self.building, None
        try:
            built.result()
        except (RuntimeError, OSError) as error:
            self.log.warning("memory index build failed; retrying next interval", error=str(error))
        else:
            self.log.info("memory index built", memories=self.index.count() if self.index else 0)

    def _went_down(self, error: Exception) -> None:
        assert self.index is not None
        if self.up or self.last_error is None:
            self.log.error("memory database unavailable; keeping remembers and retrying",
                           error=str(error))  # fmt: skip
        self.up, self.last_error = False, str(error)
        self.index.close()
        self.publish_figures(memories_pending=len(self.pending))
        if not self.retry_pending:
            self.retry_pending = True
            backoff = supervisors.Backoff(self.config.store.retry_min, self.config.store.retry_max)
            self.send_after(backoff.delay(self.attempt), _Retry())
            self.attempt += 1
