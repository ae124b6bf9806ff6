"""The llm's warm start: the first answer after a crash, with the warm-up restored from disk.

A started (or restarted) llm actor reads every prompt's fixed start, the system prompt and
the tools' schemas (~1,000 tokens with the skills' seven tools), before its first turn; a
question asked meanwhile waits. ``llm.warm_start`` saves what that read leaves in the KV
cache and restores it at the next start (solo_actors/llm/warm_start.py). Measured here, on
the config's model, with the real skills actor offering its tools, in one process:

* ``first_token_after_crash_s``: an injected fault crashes the llm actor, its supervisor
  restarts it, and a question is asked as soon as the name is back; seconds from the crash
  to the reply's first token, with ``warm_start`` on (the file the first start saved) and
  off, ``--crashes`` times each; medians and the ratio off / on.
* ``read_vs_restore``: llama-cpp-python's own ``Llama.eval`` of as many tokens as the
  warm-up read, from an empty cache, against `WarmStates.restore` of the state they leave,
  on the same loaded model.

Usage: python bench/bench_warm_start.py [--crashes 3]; prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import supervisors  # noqa: E402
from solo_actors.config import Config, load_config  # noqa: E402
from solo_actors.llm.engine import Engine, ModelSettings, load_model  # noqa: E402
from solo_actors.llm.warm_start import WarmStates  # noqa: E402
from solo_actors.messages import LLMDone, LLMRequest, LLMToken  # noqa: E402
from solo_actors.models import resolve_model  # noqa: E402
from solo_actors.names import LLM_NAME, SKILLS_NAME, STORE_NAME  # noqa: E402
from solo_actors.runtime.logs import configure_logging  # noqa: E402
from solo_actors.runtime.tree import root_children  # noqa: E402
from supervisors import faults  # noqa: E402

QUESTION = "What is the capital of France?"
TIMEOUT = 120.0


def wait_for(condition: Any, what: str) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.01)
    return value


def llm_figures() -> dict[str, Any]:
    ref = supervisors.whereis(LLM_NAME)
    return dict(ref.lifecycle.figures) if ref is not None else {}


def first_token_after_crash() -> float:
    """Crash the llm, ask as soon as its restarted incarnation is registered; seconds from
    the crash to the first token (the reply is then read to its end)."""
    old = supervisors.whereis(LLM_NAME)
    assert old is not None
    crashed = time.monotonic()
    old.tell(supervisors.Fault("raise", label="bench"))
    new = wait_for(lambda: (ref := supervisors.whereis(LLM_NAME)) is not old and ref, "restart")
    request = LLMRequest(prompt=QUESTION, use_tools=True, max_tokens=8)
    first = 0.0
    with supervisors.inbox() as box:
        box.monitor(LLM_NAME)
        new.tell(msgspec.structs.replace(request, reply_to=box.name))
        while isinstance(event := box.receive(TIMEOUT), LLMToken):
            first = first or time.monotonic() - crashed
    if not isinstance(event, LLMDone) or not first:
        raise SystemExit(f"the question after the crash was not answered: {event!r}")
    return first


def crashes(config: Config, count: int) -> tuple[list[float], dict[str, Any]]:
    wanted = (STORE_NAME, LLM_NAME, SKILLS_NAME)  # the skills keep their timers in the store
    children = [spec for spec in root_children(config) if spec.id in wanted]
    tree = supervisors.start_supervisor(
        supervisors.SupFlags(intensity=count + 2, period=3600.0), children, name="bench-warm"
    )
    try:
        warmed = ("prefills", "warm_starts")
        wait_for(lambda: any(llm_figures().get(key) for key in warmed), "the first warm-up")
        first = llm_figures()
        return [first_token_after_crash() for _ in range(count)], first
    finally:
        tree.stop()


def read_vs_restore(config: Config, tokens: int) -> dict[str, float]:
    """Raw `Llama.eval` of `tokens` tokens from an empty cache, against a restore of the
    state those tokens leave (saved once), on the same loaded model; medians of 3."""
    settings = config.llm
    described_path = str(
        resolve_model(settings.model, config.models, role="llm", var_dir=config.solo.var_dir).path
    )
    model_settings = ModelSettings(
        described_path, settings.n_ctx, settings.n_batch, settings.n_threads
    )
    model = load_model(model_settings)
    engine = Engine(model)
    text = (REPO / "docs" / "llm.md").read_text()
    prompt = engine.tokenize(text, start=True)[:tokens]
    states = WarmStates(Path(tempfile.mkdtemp(prefix="bench-kv-")), "bench", model_settings)
    reads, restores = [], []
    for _ in range(3):
        engine.reset()
        with model.lock:
            started = time.perf_counter()
            model.llama.eval(prompt)
            reads.append(time.perf_counter() - started)
        states.save(engine)
        engine.reset()
        started = time.perf_counter()
        assert states.restore(engine) == len(prompt)
        restores.append(time.perf_counter() - started)
    read, restore = statistics.median(reads), statistics.median(restores)
    return {
        "tokens": tokens,
        "raw_eval_s": round(read, 4),
        "restore_s": round(restore, 4),
        "ratio": round(read / restore, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crashes", type=int, default=3)
    args = parser.parse_args()
    faults.enable()
    base = load_config(environ={"SOLO__SOLO__VAR_DIR": tempfile.mkdtemp(prefix="bench-warm-")})
    configure_logging(base.log)  # log lines to stderr: stdout carries only the JSON
    # In this process: the crash is an injected fault, and the supervisor restarts the
    # actor in place (an isolated llm would adopt its hot standby's spare, which warms up
    # on adoption the same way).
    isolation = {name: mode for name, mode in base.isolation.items() if name != LLM_NAME}
    result: dict[str, Any] = {"benchmark": "llm warm start", "question": QUESTION}
    seconds: dict[str, float] = {}
    for warm_start in (True, False):
        llm = msgspec.structs.replace(base.llm, warm_start=warm_start, cache=False)
        config = msgspec.structs.replace(base, llm=llm, isolation=isolation)
        times, first = crashes(config, args.crashes)
        arm = "on" if warm_start else "off"
        seconds[arm] = statistics.median(times)
        result[f"warm_start_{arm}"] = {
            "first_token_after_crash_s": [round(value, 3) for value in times],
            "median_s": round(seconds[arm], 3),
        }
        if warm_start:
            result["model"] = base.llm.model
            result["warm_up_tokens"] = first.get("prefill_tokens")
    result["first_token_ratio_off_vs_on"] = round(seconds["off"] / seconds["on"], 1)
    result["read_vs_restore"] = read_vs_restore(base, int(result["warm_up_tokens"] or 1000))
    result["machine"] = f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}"
    result["load_average"] = [round(value, 2) for value in os.getloadavg()]
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
