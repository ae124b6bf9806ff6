"""The dialogue actor's one call per turn: does a skill take this turn?

`skill_matcher` loads the templates once per folder; `hand_off_to_skills` matches a turn's
text (well under a millisecond) and, when a template fits (or one fits each part of a
compound request), tells the ``skills`` actor a
`SkillTurn`, which answers it like an llm reply. No match, skills switched off, or the
skills actor down: the turn stays an ordinary llm turn.
"""

from __future__ import annotations

import functools
from pathlib import Path

import supervisors
from solo_actors.config import REPO_ROOT, Config
from solo_actors.messages import SkillTurn, UserTurn
from solo_actors.names import SKILLS_NAME
from solo_actors.runtime.logs import get_logger
from solo_actors.skills.templates import Matcher, TemplateError, load_matcher


@functools.cache
def _load(folder: Path) -> Matcher | None:
    try:
        return load_matcher(folder)
    except (TemplateError, OSError) as error:
        # A typo in a user's template must not take the assistant down: skills are off
        # (every turn goes to the llm) and the log says which sentence is wrong.
        get_logger(SKILLS_NAME).error("skill templates not loaded", error=str(error))
        return None


def skill_matcher(config: Config) -> Matcher | None:
    """The compiled templates of ``skills.templates_dir``; None when skills are off or
    the templates do not load."""
    if not config.skills.enabled:
        return None
    return _load(REPO_ROOT / config.skills.templates_dir)


def finished_command(matcher: Matcher, text: str) -> bool:
    """Whether ``text`` is a whole skill command with nothing left open (no free-text slot
    running to its end): said before a pause, it is the end of the user's turn."""
    matches = matcher.match_all(text)
    return bool(matches) and not matches[-1].open_ended


def hand_off_to_skills(matcher: Matcher | None, turn: UserTurn) -> bool:
    """Send ``turn`` to the skills actor if a template fits its text; True when sent."""
    if matcher is None or not matcher.match_all(turn.text):
        return False
    # Not running or busy: the turn stays an ordinary llm turn.
    return supervisors.cast(SKILLS_NAME, SkillTurn(turn=turn)) == "ok"
