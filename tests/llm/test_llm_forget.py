"""What the llm forgets when the user has Solo forget a memory: the exchanges that hold its
words, wherever in them, and every cached reply (the warm start's KV files stay)."""

from __future__ import annotations

from pathlib import Path

from solo_actors.llm.cache import CachedReply, ResponseCache, cache_key
from solo_actors.llm.history import Turn, without_mentions


def exchange(said: str, reply: str) -> list[Turn]:
    return [{"role": "user", "content": said}, {"role": "assistant", "content": reply}]


def test_an_exchange_goes_when_any_of_its_messages_holds_the_words() -> None:
    told = exchange("My locker code\nis  4512.", "Okay, your locker code is 4512.")
    recalled = exchange("You know: My locker code is 4512.\nWhat is my code?", "It is 4512.")
    said_back = exchange("What did I tell you?", 'You said "My locker code is 4512."')
    tool_round = [
        {"role": "user", "content": "Set a timer."},
        {"role": "assistant", "content": "", "tool_calls": []},
        {"role": "tool", "content": "Timer set."},
        {"role": "assistant", "content": "Done."},
    ]
    turns = [*told, *tool_round, *recalled, *said_back, *exchange("Hi.", "Hello.")]
    kept = without_mentions(turns, ["My locker code is 4512."])
    assert kept == [*tool_round, *exchange("Hi.", "Hello.")]
    assert without_mentions(turns, ["nothing said"]) == turns


def test_clearing_the_cache_forgets_every_reply_and_keeps_the_kv_files(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, ttl=60, capacity=8)
    keys = [cache_key("prompt", n) for n in range(3)]
    for key in keys:
        reply = CachedReply(text="Your code is 4512.", prompt_tokens=1, completion_tokens=1,
                            finish_reason="stop", created=1e12)  # fmt: skip
        cache.put(key, reply)
    warm_start = tmp_path / "kv" / "model.json"
    warm_start.parent.mkdir()
    warm_start.write_text("{}")
    assert cache.clear() == 3
    assert [cache.get(key) for key in keys] == [None, None, None]
    assert list(tmp_path.glob("*/*.json")) == [warm_start]
