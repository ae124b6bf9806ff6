"""A real crew on the remote llm engine: with ``llm.engine = "openai"`` every CrewAI model
call is an `LLMRequest` to the llm actor, which sends it to the OpenAI-compatible server
(llama-cpp-python's own, started here on loopback); nothing of CrewAI's own LLM config
changes, and no local model is loaded."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

import supervisors
from solo_actors.agents.actor import AgentsActor
from solo_actors.llm import child_spec as llm_spec
from solo_actors.messages import RunWorkflow
from tests.agents.conftest import Listener, tiny_config
from tests.llm.conftest import (  # noqa: F401  (fixtures: the llama.cpp server, its model)
    StartServer,
    start_server,
    tiny_model,
)

pytestmark = pytest.mark.filterwarnings("ignore:function callbacks cannot be serialized")


def test_a_crew_runs_on_the_remote_server(
    tmp_path: Path,
    listener: Listener,
    start_server: StartServer,  # noqa: F811  (the imported fixture)
) -> None:
    server = start_server()
    config = tiny_config(
        tmp_path / "var",
        **{
            "llm.engine": "openai",
            "llm.remote.base_url": server.base_url,
            "llm.remote.model": "tiny",
            "llm.remote.fallback": "none",
        },
    )
    llm, agents = "llm-remote-crew", "agents-remote-crew"
    root = supervisors.start_supervisor(
        supervisors.SupFlags(intensity=1, period=5),
        [
            llm_spec(config, llm),
            supervisors.ChildSpec(
                id=agents, name=agents, args=(config, agents), shutdown=5.0,
                start=functools.partial(AgentsActor.start, llm_name=llm),
            ),
        ],
        name="agents-remote-crew-test",
    )  # fmt: skip
    try:
        request = RunWorkflow(
            workflow="critique",
            input="The museum opens at nine and closes at five.",
            reply_to=listener.name,
        )
        accepted = supervisors.ask(agents, request, timeout=10)
        run = listener.final(accepted.run_id, timeout=240)
        node = root.status().find(f"agents-remote-crew-test/{llm}")
        assert node is not None
        figures = dict(node.figures)
    finally:
        root.stop()
    assert run.status == "done", run.error
    assert run.result.strip() and run.llm_calls >= 1
    assert server.completions_seen() == run.llm_calls  # every model call went to the server
    assert figures["remote_requests"] == run.llm_calls and figures["local_loaded"] is False
