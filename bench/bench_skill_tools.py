"""How often the default model reaches a skill through function calling (docs/skills.md).

Timer requests phrased so that no sentence template matches them (checked here) go to the
llm with the skills offered as tools (``llm.tool_owners = ["skills"]``); a request counts
as reached when the skills actor then holds a pending timer of the asked length. The same
run asks ordinary questions with the tools offered and counts the ones answered rather
than declined, counts the honesty set's questions (tests/skills/honesty.toml) answered "I
can't ...", and times a first turn with and without the tools (the prompt they add).
Run with the default system prompt and with a plain one; prints JSON.

    python bench/bench_skill_tools.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import supervisors
from solo_actors.config import REPO_ROOT, load_config
from solo_actors.llm import child_spec as llm_spec
from solo_actors.messages import (
    CancelSkillItem,
    ListSkillItems,
    LLMDone,
    LLMRequest,
)
from solo_actors.names import SKILLS_NAME, STORE_NAME
from solo_actors.runtime.specs import worker_spec
from solo_actors.skills.actor import SkillsActor
from solo_actors.skills.templates import load_matcher
from solo_actors.store.actor import StoreActor
from tests.conftest import config_environment

TIMERS = [  # (request, length in seconds)
    ("I need to be reminded in 5 minutes that the pasta is ready, start a countdown", 300),
    ("Count down ninety seconds for my tea please", 90),
    ("Could you let me know when 10 minutes have passed?", 600),
    ("Ping me in 3 minutes, the eggs will be done", 180),
    ("Start counting down from 20 minutes for the laundry", 1200),
    ("My bread needs 45 minutes in the oven, keep track of that for me", 2700),
    ("Tell me when two minutes are up", 120),
    ("Put a countdown of 15 minutes on", 900),
    ("I'm going to nap, wake me in 30 minutes with a timer", 1800),
    ("Keep time for me: 8 minutes for the steak", 480),
]
ORDINARY = [
    "What is the capital of France?",
    "Who wrote Romeo and Juliet?",
    "How many legs does a spider have?",
    "What is the boiling point of water in Celsius?",
    "Tell me a fun fact about octopuses.",
    "What does a bee make?",
]
DECLINED = ("can't", "cannot", "can not", "unable", "not able")
PLAIN = "You are a helpful assistant. Answer briefly."


def run(system: str | None) -> dict[str, Any]:
    var = Path(tempfile.mkdtemp()) / "var"
    overrides = {"llm.model": "qwen2.5-coder-0.5b-instruct-q4_k_m", "llm.cache": False,
                 "llm.n_ctx": 2048, "llm.max_tokens": 96, "llm.tool_owners": '["skills"]',
                 "memory.enabled": False}  # fmt: skip
    config = load_config("test", environ=config_environment(var, overrides))
    children = [worker_spec(config, STORE_NAME, StoreActor), llm_spec(config),
                worker_spec(config, SKILLS_NAME, SkillsActor)]  # fmt: skip
    root = supervisors.start_supervisor(supervisors.SupFlags(), children, name="bench")
    reached, calls = 0, 0
    try:
        first = {}
        for use_tools in (False, True):
            started = time.monotonic()
            ask(LLMRequest(prompt="Hello!", system=system, use_tools=use_tools))
            first["with_tools" if use_tools else "without_tools"] = time.monotonic() - started
        for text, length in TIMERS:
            done = ask(LLMRequest(prompt=text, system=system, use_tools=True))
            calls += bool(done.tools_used)
            items = supervisors.ask(SKILLS_NAME, ListSkillItems(kind="timer"), timeout=30).items
            reached += any(abs(item.length - length) < 1 for item in items)
            for item in items:
                supervisors.ask(SKILLS_NAME, CancelSkillItem(item_id=item.item_id), timeout=30)
        honesty = tomllib.loads((REPO_ROOT / "tests/skills/honesty.toml").read_text("utf-8"))
        refused = sum(
            any(word in ask(LLMRequest(prompt=q, system=system, use_tools=True)).text.lower()
                .replace("\u2019", "'") for word in honesty["refusal_words"])
            for q in honesty["questions"]
        )  # fmt: skip
        answered = sum(
            not any(word in ask(LLMRequest(prompt=q, system=system, use_tools=True)).text.lower()
                    for word in DECLINED)
            for q in ORDINARY
        )  # fmt: skip
    finally:
        root.stop()
    return {
        "system_prompt": "default" if system is None else "plain",
        "timer_requests": len(TIMERS),
        "tool_called": calls,
        "timer_stored_right_length": reached,
        "ordinary_answered": answered,
        "ordinary": len(ORDINARY),
        "honesty_refused": refused,
        "honesty_questions": len(honesty["questions"]),
        "first_turn_s": {key: round(value, 2) for key, value in first.items()},
    }


def ask(request: LLMRequest) -> LLMDone:
    done = supervisors.ask("llm", request, timeout=300)
    assert isinstance(done, LLMDone), done
    return done


def main() -> None:
    matcher = load_matcher(REPO_ROOT / "config" / "skills")
    matched = [text for text, _ in TIMERS if matcher.match_all(text)]
    assert not matched, f"these are matched by the templates already: {matched}"
    results = [run(None), run(PLAIN)]
    print(json.dumps({"bench": "skill_tools", "runs": results}, indent=2))


if __name__ == "__main__":
    main()
