"""The dashboard in a real browser: headless Debian chromium driven by playwright.

Starts the assistant in-process (test profile, api on a free port), loads the page, enters a
token, asks a question and sees the reply, presses restart on an actor and sees its restart
count go up, and saves a screenshot in the test's tmp dir (and, when
``SOLO_DASHBOARD_SCREENSHOT`` names a file, there too: that is how docs/dashboard.png is made).
A second test follows an agents run, started over the API, live to its end; others list
and cancel timers, list memories and forget one, show and set the volume and the speaking
rate, and show that with memory off the Memories panel says so while the rest of the page
goes on.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect, sync_playwright

import supervisors
from solo_actors.api.auth import Scope
from solo_actors.messages import Remember
from solo_actors.names import MEMORY_NAME
from tests.api.apikit import RunningApi, running_assistant, start_assistant

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
TIMEOUT_MS = 60_000
expect.set_options(timeout=TIMEOUT_MS)  # a first reply on a loaded 2-core machine takes a while
RUN_TIMEOUT_MS = 300_000


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `sudo apt-get install -y chromium` "
                    "(make test does it when run as root: scripts/system-deps.sh)")  # fmt: skip
    with sync_playwright() as playwright:
        # A fresh profile folder per test: nothing is shared with another run.
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile", executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 1280, "height": 860},
        )  # fmt: skip
        yield context
        context.close()


@pytest.fixture
def assistant(tmp_path: Path) -> Iterator[RunningApi]:
    yield from running_assistant(tmp_path / "var")


def open_dashboard(
    browser: BrowserContext, assistant: RunningApi, scope: Scope
) -> tuple[Page, list[str]]:
    """The dashboard, signed in with a ``scope`` token; the list collects page errors."""
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(assistant.url + "/")
    page.fill("#token", assistant.tokens[scope])
    page.click("#token-form button")
    expect(page.locator("#health")).to_have_text("running")
    return page, problems


def restarts_cell(page: Page, path: str) -> Locator:
    return page.locator(f'#tree tr[data-path="{path}"] td.restarts')


def test_dashboard_asks_and_restarts_in_a_real_browser(
    browser: BrowserContext, assistant: RunningApi, tmp_path: Path
) -> None:
    page, problems = open_dashboard(browser, assistant, "control")
    expect(page.locator('#tree tr[data-path="solo/llm"] td.state')).to_have_text("running")

    page.fill("#question", "Say hello in three words.")
    page.click("#ask-form button")
    reply = page.locator('#reply[data-done="true"]')
    expect(reply).not_to_be_empty()
    expect(page.locator("#answer .meta")).not_to_contain_text("error")
    expect(page.locator("#turns tbody tr").first).to_contain_text("Say hello in three words.")

    before = int(restarts_cell(page, "solo/dialogue").inner_text())
    page.click('#tree tr[data-path="solo/dialogue"] button.restart')
    expect(restarts_cell(page, "solo/dialogue")).to_have_text(str(before + 1))
    expect(page.locator("#reports li.kind-restart").first).to_contain_text("solo/dialogue")
    listed = assistant.post(
        "/ask", scope="control", json={"text": "Add milk, eggs and bread to my shopping list."}
    )
    assert listed.status_code == 200, listed.text
    page.wait_for_timeout(2500)  # two status polls: the chart has a line to draw, the list rows

    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("SOLO_DASHBOARD_SCREENSHOT"):
        shutil.copy(shot, os.environ["SOLO_DASHBOARD_SCREENSHOT"])
    assert problems == []


def test_dashboard_follows_an_agents_run_live(
    browser: BrowserContext, assistant: RunningApi
) -> None:
    page, problems = open_dashboard(browser, assistant, "read")
    expect(page.locator('body[data-events="connected"]')).to_have_count(1)
    body = {"workflow": "critique", "input": "The shop opens at nine."}
    started = assistant.post("/agents/run", scope="control", json=body)
    assert started.status_code == 202, started.text
    row = page.locator(f'#runs tr[data-run="{started.json()["run_id"]}"]')
    # The tiny model's one-step critique, crewai's first import included, on a loaded machine.
    expect(row.locator("td.status")).to_have_text("done", timeout=RUN_TIMEOUT_MS)
    expect(row.locator("td.workflow")).to_have_text("critique")
    expect(row.locator("td.step")).to_have_text("1/1 steps")
    assert problems == []


def test_dashboard_lists_cancels_and_shows_fired_timers_and_lists(
    browser: BrowserContext, assistant: RunningApi
) -> None:
    page, problems = open_dashboard(browser, assistant, "control")
    expect(page.locator('body[data-events="connected"]')).to_have_count(1)
    kept = assistant.post("/timers", scope="control", json={"seconds": 600, "label": "tea"})
    short = assistant.post("/timers", scope="control", json={"seconds": 2, "label": "egg"})
    daily = assistant.post("/reminders", scope="control",
                           json={"due_at": time.time() + 3600, "label": "stretch",
                                 "repeats": "daily"})  # fmt: skip
    assert kept.status_code == short.status_code == daily.status_code == 201, daily.text

    tea = page.locator(f'#skill-items tr[data-id="{kept.json()["id"]}"]')
    expect(tea.locator("td.label")).to_have_text("tea")
    expect(tea.locator("td.kind")).to_have_text("timer")
    stretch = page.locator(f'#skill-items tr[data-id="{daily.json()["id"]}"]')
    expect(stretch.locator("td.kind")).to_have_text("reminder, daily")
    # The 2-second timer rings: the fired list shows it and the pending list drops it.
    expect(page.locator(f'#fired li[data-id="{short.json()["id"]}"]')).to_contain_text("egg")
    expect(page.locator(f'#skill-items tr[data-id="{short.json()["id"]}"]')).to_have_count(0)

    # Paused (by voice or text): its time left is held, not counted down.
    paused = assistant.post("/ask", scope="control", json={"text": "Pause the tea timer."})
    assert paused.json()["reply"].startswith("Paused the tea timer"), paused.text
    expect(tea.locator("td.due")).to_have_text("paused")
    tea.locator("button.cancel").click()
    expect(tea).to_have_count(0)
    assert assistant.get("/timers", scope="read").json()["timers"] == []
    stretch.locator("button.cancel").click()
    expect(stretch).to_have_count(0)
    assert assistant.get("/reminders", scope="read").json()["reminders"] == []

    # A list filled by voice or text, an item crossed off in the browser.
    said = assistant.post("/ask", scope="control",
                          json={"text": "Add milk and eggs to my shopping list."})  # fmt: skip
    assert said.json()["reply"] == "Added milk and eggs to your shopping list.", said.text
    rows = page.locator("#lists tbody tr")
    expect(rows.locator("td.text")).to_have_text(["milk", "eggs"])
    expect(rows.locator("td.list")).to_have_text(["shopping", "shopping"])
    rows.filter(has_text="eggs").locator("button.cancel").click()
    expect(rows.locator("td.text")).to_have_text(["milk"])
    shopping = assistant.get("/lists", scope="read").json()["lists"]["shopping"]
    assert [item["text"] for item in shopping] == ["milk"]
    assert problems == []


def test_dashboard_lists_memories_and_forgets_one(
    browser: BrowserContext, assistant: RunningApi
) -> None:
    for memory_id, said in (("m-rex", "My dog is Rex."), ("m-pot", "The key is under the pot.")):
        told = Remember(text=f"The user said: {said}", kind="told", memory_id=memory_id,
                        meta={"said": said})  # fmt: skip
        supervisors.tell(MEMORY_NAME, told)
    page, problems = open_dashboard(browser, assistant, "control")
    rex = page.locator('#memories tr[data-id="m-rex"]')
    expect(rex.locator("td.said")).to_have_text("My dog is Rex.")
    expect(page.locator('#memories tr[data-id="m-pot"] td.kind')).to_have_text("told")

    rex.locator("button.cancel").click()
    expect(rex).to_have_count(0)
    kept = assistant.get("/memories", scope="read").json()["memories"]
    assert [memory["memory_id"] for memory in kept] == ["m-pot"]
    assert problems == []


def test_dashboard_with_memory_off_says_so_and_goes_on(
    browser: BrowserContext, tmp_path: Path
) -> None:
    off = start_assistant(tmp_path / "var", {"memory.enabled": False})
    try:
        page, problems = open_dashboard(browser, off, "control")  # "running": the poll went on
        expect(page.locator("#memory-note")).to_contain_text("memory.enabled = false")
        expect(page.locator("#memories tbody tr")).to_have_count(0)
        # Polls after the refused listing still run: a timer set now is listed.
        timer = off.post("/timers", scope="control", json={"seconds": 600, "label": "soup"})
        assert timer.status_code == 201, timer.text
        row = page.locator(f'#skill-items tr[data-id="{timer.json()["id"]}"]')
        expect(row.locator("td.label")).to_have_text("soup")
        assert problems == []
    finally:
        off.stop()


@dataclass(frozen=True)
class SliderCase:
    """A voice setting's slider: what it shows first, a value a person moves it to, and a
    sentence said elsewhere that moves it again."""

    slider: str
    unit: str
    shown: int
    moved_to: int
    api: str
    field: str
    said: str
    reply: str
    then: int


SLIDERS = [
    SliderCase("volume", "", 10, 4, "/volume", "level", "Turn it up.", "Volume 5.", 5),
    SliderCase("speed", " %", 100, 80, "/speaking-rate", "percent", "Speak normally.",
               "I'm speaking at my normal speed.", 100),
]  # fmt: skip


@pytest.mark.parametrize("case", SLIDERS, ids=lambda case: case.slider)
def test_dashboard_shows_and_sets_a_voice_setting(
    browser: BrowserContext, assistant: RunningApi, case: SliderCase
) -> None:
    page, problems = open_dashboard(browser, assistant, "control")
    level = page.locator(f"#{case.slider}-level")
    expect(level).to_have_text(f"{case.shown}{case.unit}")  # the owning actor's figure
    # Moved by a person: the slider's input and change events, as a drag ends.
    page.locator(f"#{case.slider}").evaluate(
        f"(slider) => {{ slider.value = {case.moved_to}; slider.dispatchEvent(new Event('input'));"
        " slider.dispatchEvent(new Event('change')); }"
    )
    expect(page.locator("#status-line")).to_contain_text(
        f"{case.slider} {case.moved_to}{case.unit} (was {case.shown}{case.unit})"
    )
    assert assistant.get(case.api, scope="read").json()[case.field] == case.moved_to
    # Changed by voice elsewhere: the next poll moves the slider.
    asked = assistant.post("/ask", scope="control", json={"text": case.said})
    assert asked.json()["reply"] == case.reply, asked.text
    expect(level).to_have_text(f"{case.then}{case.unit}")
    expect(page.locator(f"#{case.slider}")).to_have_value(str(case.then))
    assert problems == []
