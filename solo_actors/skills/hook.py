"""The dialogue actor's one call per turn: does a skill take this turn?

`skill_matcher` loads the templates once per folder; `hand_off_to_skills` matches a turn's
text (well under a millisecond) and, when a template fits (or one fits each part of a
compound request), tells the ``skills`` actor a
`SkillTurn`, which answers it like an llm reply. No match, skills switched off, or the
skills actor down: the turn stays an ordinary llm turn.

A request with a part missing ("set a timer") is answered with the template's question
("For how long?", `Intent.ask`), and `Questions` keeps it for the conversation: its next
turn, said within ``skills.answer_within`` seconds, is tried as the answer, completing the
request ("set a timer for" + "5 minutes"). `Questions` also keeps each conversation's last
skill request for as long: a next turn that fits none of the templates by itself may go on
from it (a `FollowUp`: "and in Tokyo?" after "what time is it"). The dialogue actor
owns the `Questions`, as it owns the conversation; the skills actor only matches the
completed text.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from pathlib import Path

import supervisors
from solo_actors.config import REPO_ROOT, Config
from solo_actors.messages import Exchange, SkillTurn, UserTurn
from solo_actors.names import SKILLS_NAME
from solo_actors.runtime.logs import get_logger
from solo_actors.skills.templates import Matcher, SkillMatch, TemplateError, load_matcher


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
    running to its end, no part missing): said before a pause, it is the end of the user's
    turn. "Set a timer" is not: "... for ten minutes" may follow the pause. "Forget
    everything" is: its question asks to confirm, and no words said after it complete it
    (its answer comes first: "yes" + "forget everything")."""
    matches = matcher.match_all(text)
    if not matches or matches[-1].open_ended:
        return False
    continued = [c for c in matches[-1].completions if not c.startswith("{answer}")]
    return not (matches[-1].ask and continued)


def fits_whole(matcher: Matcher, text: str) -> bool:
    """Whether ``text`` is a skill command whose words a template fits whole: none left to a
    free-text or name slot, where any words fit ("remind me to {task}") and so prove
    nothing. Of Whisper's hypotheses, one that does is the transcript
    (`solo_actors.voice.stt.command_preference`)."""
    matches = matcher.match_all(text)
    return bool(matches) and not any(match.said for match in matches)


@dataclass
class Questions:
    """What the last skill turn of each conversation left open for the next: its question,
    waiting for an answer, and its request, which a follow-up may go on from."""

    answer_within: float
    """Seconds a question waits for its answer, and a request for a follow-up
    (``skills.answer_within``)."""
    asked: dict[str, tuple[SkillMatch, float]] = field(default_factory=dict)
    """conversation id -> (the request with a part missing, when its question expires)."""
    requested: dict[str, tuple[SkillMatch, float]] = field(default_factory=dict)
    """conversation id -> (the last skill request, until when a follow-up goes on from it)."""

    def pending(self, conversation_id: str) -> SkillMatch | None:
        question, expires = self.asked.get(conversation_id, (None, 0.0))
        return question if time.monotonic() < expires else None

    def take(self, conversation_id: str) -> tuple[SkillMatch | None, SkillMatch | None]:
        """The pending question, now answered or not, and the last request, now followed up
        or not: only the very next turn answers or follows them."""
        question, request = self.pending(conversation_id), self.last_request(conversation_id)
        self.asked.pop(conversation_id, None)
        self.requested.pop(conversation_id, None)
        return question, request

    def last_request(self, conversation_id: str) -> SkillMatch | None:
        """The conversation's last skill request, while a follow-up may go on from it."""
        request, expires = self.requested.get(conversation_id, (None, 0.0))
        return request if time.monotonic() < expires else None

    def ask(self, conversation_id: str, matches: list[SkillMatch]) -> None:
        """Keep the question of the last request answered, if it asks one, else the request
        (and drop the expired ones of conversations that never went on: the API makes
        many)."""
        at = time.monotonic()
        self.asked = {key: entry for key, entry in self.asked.items() if entry[1] > at}
        self.requested = {key: entry for key, entry in self.requested.items() if entry[1] > at}
        if matches and matches[-1].ask:
            self.asked[conversation_id] = (matches[-1], at + self.answer_within)
        elif matches:
            self.requested[conversation_id] = (matches[-1], at + self.answer_within)


def skill_text(
    matcher: Matcher, question: SkillMatch | None, text: str, before: SkillMatch | None = None
) -> tuple[str, list[SkillMatch]]:
    """The text a skill answers, and its matches (none: no skill answers ``text``).

    A turn that is a request of its own ("never mind", "what time is it") is that request.
    Else, with a question pending, the first completion that fits a template is the answer,
    unless it only asks the same question again ("When should I remind you to call mum?"
    "What is the capital of France?"); else, right after the skill request ``before``, the
    request a follow-up of it stands for ("and in Tokyo?"), also where the words alone would
    only ask for a missing part; else the turn is matched as said."""
    said = matcher.match_all(text)
    # What the request before says fills in what these words leave out: "add eggs" right
    # after an addition is for the same list, not the question which list.
    unfinished = not said or said[-1].ask
    followed = matcher.followed(before, text) if unfinished and before is not None else None
    if followed and (matches := matcher.match_all(followed)):
        return followed, matches
    if question is None or (said and not said[-1].ask):
        return text, said
    for completed in question.completed(text):
        matches = matcher.match_all(completed)
        # Asking on is progress ("remind me" + "to call mum": when?); asking the same again
        # means the answer was no answer.
        if matches and (not matches[-1].ask or matches[-1].intent != question.intent):
            return completed, matches
    return text, said


def hand_off_to_skills(
    matcher: Matcher | None, turn: UserTurn, questions: Questions, last: Exchange | None = None
) -> bool:
    """Send ``turn`` to the skills actor if a template fits its text, or completes the
    question pending in its conversation; True when sent. ``last``: the conversation's
    turn before, which "say that again" repeats."""
    if matcher is None:
        return False
    question, before = questions.take(turn.conversation_id)
    text, matches = skill_text(matcher, question, turn.text, before)
    if not matches:
        return False
    # Not running or busy: the turn stays an ordinary llm turn.
    handed = SkillTurn(turn=turn, text=None if text == turn.text else text, last=last)
    if supervisors.cast(SKILLS_NAME, handed) != "ok":
        return False
    questions.ask(turn.conversation_id, matches)
    return True
