"""Skills test fixtures: the real templates, and a `SkillBook` at a fixed instant; the skills
actor's tree with the store, and waits for it and its stand-in receivers."""

from __future__ import annotations

import msgspec
import pytest

import supervisors
from solo_actors.config import REPO_ROOT, Config, load_config
from solo_actors.dialogue import DialogueActor
from solo_actors.messages import ListSkillItems
from solo_actors.names import DIALOGUE_NAME, SKILLS_NAME, STORE_NAME
from solo_actors.runtime.specs import worker_spec
from solo_actors.skills.actor import SkillsActor
from solo_actors.skills.builtin import SkillBook
from solo_actors.skills.templates import Matcher, load_matcher
from solo_actors.store.actor import StoreActor

NOW = 1_780_000_000.0
"""A fixed instant (a Thursday, 2026-05-28 20:26:40 UTC) so answers are repeatable."""


@pytest.fixture(scope="session")
def matcher() -> Matcher:
    return load_matcher(REPO_ROOT / "config" / "skills")


@pytest.fixture(scope="session")
def utc_config() -> Config:
    return load_config("test", environ={"SOLO__SKILLS__TIMEZONE": "UTC"})


@pytest.fixture
def book(utc_config: Config, matcher: Matcher) -> SkillBook:
    return SkillBook(utc_config.skills, matcher)


def a_book(utc_config: Config, matcher: Matcher, **skills: object) -> SkillBook:
    """A `SkillBook` with these ``[skills]`` settings changed ("timezone", "location")."""
    return SkillBook(msgspec.structs.replace(utc_config.skills, **skills), matcher)


def settle(*names: str) -> None:
    """Return once each registered actor of ``names``, in order, has handled the mail sent
    to it before: an ask is answered after it. The skills actor answers `ListSkillItems`;
    a stand-in receiver ignores it. Settling the skills actor and then a receiver it tells
    things leaves nothing it told before in flight."""
    for name in names:
        supervisors.ask(name, ListSkillItems(), timeout=10)


def start(config: Config) -> supervisors.SupervisorRef:
    """The store, the skills actor and the dialogue actor: what a skill turn passes through.
    A second start on the same config reads what the first made durable."""
    children = [worker_spec(config, name, actor) for name, actor in (
        (STORE_NAME, StoreActor), (SKILLS_NAME, SkillsActor), (DIALOGUE_NAME, DialogueActor),
    )]  # fmt: skip
    return supervisors.start_supervisor(supervisors.SupFlags(), children, name="skills-test")
