"""The response cache: LRU in memory, files that outlive the process, TTL on both."""

from __future__ import annotations

from pathlib import Path

from solo_actors.llm.cache import CachedReply, ResponseCache, cache_key


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def reply(clock: Clock, text: str = "Paris.") -> CachedReply:
    return CachedReply(
        text=text, prompt_tokens=10, completion_tokens=3, finish_reason="stop", created=clock()
    )


def test_key_depends_on_every_part() -> None:
    base = ("model-sha", "template-sha", "prompt", (0.0, 0.95, 40, 1.1, -1, 64))
    keys = {cache_key(*base)}
    for index in range(len(base)):
        changed = list(base)
        changed[index] = "other"
        keys.add(cache_key(*changed))
    assert len(keys) == len(base) + 1
    assert cache_key(*base) == cache_key(*base)


def test_hit_from_memory_and_from_file(tmp_path: Path) -> None:
    clock = Clock()
    cache = ResponseCache(tmp_path, ttl=60, capacity=4, clock=clock)
    assert cache.get("ab12") is None
    cache.put("ab12", reply(clock))
    assert cache.get("ab12") == reply(clock)
    fresh = ResponseCache(tmp_path, ttl=60, capacity=4, clock=clock)
    assert fresh.get("ab12") == reply(clock)
    assert (tmp_path / "ab" / "ab12.json").is_file()


def test_ttl_expires_memory_and_file(tmp_path: Path) -> None:
    clock = Clock()
    cache = ResponseCache(tmp_path, ttl=60, capacity=4, clock=clock)
    cache.put("ab12", reply(clock))
    clock.now += 61
    assert cache.get("ab12") is None
    assert not (tmp_path / "ab" / "ab12.json").exists()


def test_lru_capacity_falls_back_to_files(tmp_path: Path) -> None:
    clock = Clock()
    cache = ResponseCache(tmp_path, ttl=60, capacity=2, clock=clock)
    for key in ("aa1", "bb2", "cc3"):
        cache.put(key, reply(clock, key))
    assert len(cache._memory) == 2
    assert cache.get("aa1") == reply(clock, "aa1")  # evicted from memory, read from file


def test_damaged_file_is_a_miss(tmp_path: Path) -> None:
    clock = Clock()
    (tmp_path / "ab").mkdir()
    (tmp_path / "ab" / "ab12.json").write_text("{not json")
    cache = ResponseCache(tmp_path, ttl=60, capacity=2, clock=clock)
    assert cache.get("ab12") is None
    assert not (tmp_path / "ab" / "ab12.json").exists()


def test_prune_removes_only_expired_files(tmp_path: Path) -> None:
    clock = Clock()
    cache = ResponseCache(tmp_path, ttl=60, capacity=2, clock=clock)
    cache.put("aa1", reply(clock))
    clock.now += 50
    cache.put("bb2", reply(clock))
    clock.now += 20
    assert cache.prune() == 1
    assert not (tmp_path / "aa" / "aa1.json").exists()
    assert (tmp_path / "bb" / "bb2.json").exists()
