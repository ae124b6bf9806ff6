"""The MCP client against a real MCP server nobody here wrote: ``mcp-server-time`` (PyPI),
started over stdio by a supervised `McpServerActor`. Its tools pass the allow-list or not;
killing its process mid-run fails no call silently, and the supervisor's restart brings it
back for the next call; a server that cannot start answers with the reason, at once; and
the real default model gets the time through it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import psutil
import pytest

import supervisors
from solo_actors.agents.tools import ToolContext, toolbox
from solo_actors.config import Config, ConfigError, load_config
from solo_actors.config.schema import McpServer
from solo_actors.llm import child_spec as llm_spec
from solo_actors.llm.tools import call_tool
from solo_actors.mcp import mcp_spec
from solo_actors.messages import (
    CallTool,
    FunctionCall,
    ListTools,
    LLMDone,
    LLMRequest,
    ToolResult,
    Tools,
)
from tests.conftest import config_environment

TIME_SERVER = ["-m", "mcp_server_time", "--local-timezone", "UTC"]
WAIT = 60.0
DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"


def time_server(**fields: Any) -> McpServer:
    fields.setdefault("tools", ["get_current_time"])
    return McpServer(name="time", command="python", args=TIME_SERVER, **fields)


def config_with(tmp_path: Path, *servers: McpServer, **overrides: Any) -> Config:
    """The test profile with `servers`. Pings every 2 s (the shipped default): a ping must be
    answered within its interval, and at 0.5 s a loaded machine (a model generating in this
    process) can miss one, restarting a healthy server under a test's next call. A killed
    server is found by the next call anyway."""
    config = load_config("test", environ=config_environment(tmp_path / "var", overrides))
    mcp = msgspec.structs.replace(config.mcp, servers=list(servers), ping_every=2.0)
    return msgspec.structs.replace(config, mcp=mcp)


@pytest.fixture
def tree() -> Iterator[Callable[..., supervisors.SupervisorRef]]:
    started: list[supervisors.SupervisorRef] = []

    def start(config: Config, *extra: supervisors.ChildSpec) -> supervisors.SupervisorRef:
        flags = supervisors.SupFlags(intensity=10, period=60.0)
        root = supervisors.start_supervisor(flags, [mcp_spec(config), *extra], name="mcp-test")
        started.append(root)
        return root

    yield start
    for root in started:
        root.stop()
    assert not servers_running(), "a stopped tree left its MCP server running"


def servers_running() -> list[psutil.Process]:
    """The live `mcp-server-time` processes under this one (a killed one not yet reaped is
    a zombie: gone, though still listed)."""
    running = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "mcp_server_time" in " ".join(child.cmdline()):
                running.append(child)
        except (psutil.ZombieProcess, psutil.NoSuchProcess):
            continue
    return running


def tools(name: str = "mcp.time") -> Tools:
    """The server's tools once it is connected (its process takes a moment to start)."""
    deadline = time.monotonic() + WAIT
    while True:
        answer = supervisors.ask(name, ListTools(), timeout=WAIT)
        assert isinstance(answer, Tools)
        if answer.error is None or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def call(arguments: dict[str, object], tool: str = "get_current_time") -> ToolResult:
    answer = supervisors.ask("mcp.time", CallTool(name=tool, arguments=arguments), timeout=WAIT)
    assert isinstance(answer, ToolResult)
    return answer


def test_the_allowed_tools_are_listed_and_called(tmp_path: Path, tree: Callable[..., Any]) -> None:
    tree(config_with(tmp_path, time_server()))
    listed = tools()
    assert listed.error is None
    assert [tool.name for tool in listed.items] == ["get_current_time"]  # not convert_time
    assert listed.items[0].parameters["required"] == ["timezone"]
    result = call({"timezone": "Europe/Berlin"})
    assert not result.error and '"timezone": "Europe/Berlin"' in result.content, result
    refused = call({"source_timezone": "UTC"}, tool="convert_time")
    assert refused.error and "not allowed" in refused.content
    wrong = call({"timezone": "Nowhere/Atlantis"})
    assert wrong.error and "Nowhere/Atlantis" in wrong.content


def test_nothing_is_exposed_unless_allowed(tmp_path: Path, tree: Callable[..., Any]) -> None:
    tree(config_with(tmp_path, time_server(tools=[])))
    deadline = time.monotonic() + WAIT
    while servers_running() == [] and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # connected by now: the list is still empty
    assert tools().items == []
    assert call({"timezone": "UTC"}).error


def test_a_killed_server_is_restarted_and_the_next_call_works(
    tmp_path: Path, tree: Callable[..., Any]
) -> None:
    root = tree(config_with(tmp_path, time_server()))
    assert tools().error is None
    (first,) = servers_running()
    results: list[ToolResult] = []
    stop = threading.Event()

    def keep_calling() -> None:
        # As the llm calls a tool: an actor restarting just then is a clear error too.
        while not stop.is_set():
            wanted = FunctionCall(name="get_current_time", arguments={"timezone": "UTC"})
            result = call_tool("mcp.time", wanted, "What time is it?", None, WAIT, lambda: False)
            assert result is not None
            results.append(result)
            time.sleep(0.05)

    caller = threading.Thread(target=keep_calling)
    caller.start()
    time.sleep(0.5)
    first.kill()  # mid-run: calls are going on
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        running = servers_running()
        if running and running[0].pid != first.pid and results and not results[-1].error:
            break
        time.sleep(0.1)
    stop.set()
    caller.join(WAIT)
    assert not caller.is_alive(), "a call hung after the server was killed"
    failed = [r for r in results if r.error]
    assert all("mcp.time" in r.content or "server time" in r.content for r in failed), failed
    assert not results[-1].error, results[-1]
    assert servers_running()[0].pid != first.pid
    (server,) = root.status().children[0].children
    assert server.restarts >= 1  # the mcp supervisor restarted it


def test_a_server_that_cannot_start_answers_with_the_reason_at_once(
    tmp_path: Path, tree: Callable[..., Any]
) -> None:
    broken = McpServer(name="time", command=str(tmp_path / "no-such-server"), tools=["*"])
    tree(config_with(tmp_path, broken))

    # Until its first try has failed the actor says "connecting"; that try runs on a thread
    # of its own and may take more than a fixed second on a loaded machine.
    def problem() -> str:
        return supervisors.ask("mcp.time", ListTools(), timeout=WAIT).error or ""

    deadline = time.monotonic() + WAIT
    while "no-such-server" not in problem():
        assert time.monotonic() < deadline, f"the failed start was never reported: {problem()}"
        time.sleep(0.1)
    started = time.monotonic()
    listed = supervisors.ask("mcp.time", ListTools(), timeout=WAIT)
    result = call({"timezone": "UTC"})
    assert time.monotonic() - started < 5
    assert listed.items == [] and "not connected" in (listed.error or "")
    assert result.error and "not connected" in result.content and "no-such-server" in result.content


def test_a_server_needs_a_command_or_a_url_not_both(tmp_path: Path) -> None:
    user = tmp_path / "solo.toml"
    user.write_text(
        '[[mcp.servers]]\nname = "x"\ncommand = "python"\nurl = "http://127.0.0.1:1/mcp"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="either command"):
        load_config("test", user_file=user)


@pytest.mark.slow
def test_the_default_model_gets_the_time_through_the_server(
    tmp_path: Path, tree: Callable[..., Any], pulled_model: Callable[[str], Any]
) -> None:
    pulled_model(DEFAULT_MODEL)
    config = config_with(
        tmp_path,
        time_server(),
        **{"llm.model": DEFAULT_MODEL, "llm.cache": False},
    )
    tree(config, llm_spec(config))
    assert tools().error is None
    request = LLMRequest(
        prompt="Use the tool to get the current time in UTC.",
        system="You are a helpful assistant. Answer briefly.",
        use_tools=True,
    )
    done = supervisors.ask("llm", request, timeout=WAIT * 3)
    assert isinstance(done, LLMDone), done
    assert done.tools_used[:1] == ["get_current_time"], done
    year = time.gmtime().tm_year
    assert str(year) in done.text or "UTC" in done.text, done.text


def test_agents_get_the_allowed_tools_of_each_server(
    tmp_path: Path, tree: Callable[..., Any]
) -> None:
    config = config_with(tmp_path, time_server())
    tree(config)
    assert tools().error is None
    tool = toolbox(mcp=config.mcp)["time_get_current_time"]
    assert "time_convert_time" not in toolbox(mcp=config.mcp)  # not on the allow-list
    context = ToolContext(input="", conversation_id=None, timeout=WAIT)
    assert '"timezone": "Asia/Tokyo"' in tool.run(context, timezone="Asia/Tokyo")
    assert "failed" in tool.run(context, timezone="Nowhere/Atlantis")
