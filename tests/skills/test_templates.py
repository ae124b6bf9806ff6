"""The template language itself: alternatives, optional words, slot kinds, errors that name
the file and sentence, and a broken template file turning skills off instead of Solo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from solo_actors.config import Config
from solo_actors.skills.builtin import SkillBook
from solo_actors.skills.hook import _load, finished_command, skill_text
from solo_actors.skills.templates import Intent, Matcher, SkillFile, TemplateError, load_matcher
from tests.skills.conftest import NOW


def matcher_of(*sentences: str, name: str = "test.intent") -> Matcher:
    return Matcher([SkillFile(intent=[Intent(name=name, sentences=list(sentences))])])


def test_alternatives_optional_words_and_slots() -> None:
    matcher = matcher_of("[please] (turn|switch) (on|off) [the] [(kitchen|hall) [way]] light[s]",
                         "water the {plant:name} in {duration}")  # fmt: skip
    for text in ("turn on the lights", "please switch off kitchen light", "turn on hall way light"):
        assert matcher.match(text) is not None, text
    assert matcher.match("turn the lights") is None
    assert matcher.match("seta timer") is None
    found = matcher.match("Water the fern in an hour.")
    assert found is not None and found.slots == {"plant": "fern", "duration": 3600.0}


def test_an_opening_heard_for_another_is_read_as_said_only_at_the_start() -> None:
    files = [SkillFile(heard={"cancelled": "cancel", "how on": "how long"}, intent=[
        Intent(name="alarm.cancel", sentences=["cancel [my] alarm"]),
        Intent(name="time.left", sentences=["how long (is|are) left"]),
        Intent(name="note", sentences=["note that {what:text}"]),
    ])]  # fmt: skip
    matcher = Matcher(files)
    heard_as = [("Cancelled my alarm.", "alarm.cancel"), ("How on is left?", "time.left")]
    for heard, intent in heard_as:
        found = matcher.match(heard)
        assert found is not None and found.intent == intent, heard
    # Further in, the word is what the user said.
    found = matcher.match("Note that the flight is cancelled.")
    assert found is not None and found.slots == {"what": "the flight is cancelled"}
    assert matcher.match("cancelled flights") is None
    assert matcher.match("how online is left") is None  # a whole word, not a prefix


@pytest.mark.parametrize(
    ("sentence", "problem"),
    [("set a (timer", "missing"), ("set a timer]", "unbalanced"), ("{when:someday}", "unknown")],
)
def test_a_bad_template_is_an_error_naming_it(sentence: str, problem: str) -> None:
    with pytest.raises(TemplateError, match=problem) as error:
        matcher_of(sentence)
    assert sentence in str(error.value)


def test_a_broken_template_file_turns_skills_off_not_solo(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text('[[intent]]\nname = "x"\nsentences = ["(a|b"]\n')
    with pytest.raises(TemplateError, match=r"mine\.toml"):
        load_matcher(tmp_path)
    assert _load(tmp_path) is None  # logged; every turn goes to the llm


def test_an_intent_no_skill_answers_is_refused(utc_config: Config) -> None:
    matcher = matcher_of("turn on the lights", name="lights.on")
    match = matcher.match("turn on the lights")
    assert match is not None
    answer = SkillBook(utc_config.skills, matcher).answer(match, NOW)
    assert answer.refused and "lights.on" in answer.text


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ('ask = "For how long?"', "'ask' and 'complete' go together"),
        ('ask = "For how long?"\ncomplete = ["set a timer"]', "needs {answer}"),
        ('ask = "For how long {?"\ncomplete = ["set a timer {answer}"]', "For how long {?"),
    ],
)
def test_a_question_without_its_completions_is_an_error_naming_it(
    tmp_path: Path, fields: str, problem: str
) -> None:
    (tmp_path / "mine.toml").write_text(
        f'[[intent]]\nname = "timer.ask"\n{fields}\nsentences = ["set a timer"]\n'
    )
    with pytest.raises(TemplateError, match=rf"mine\.toml.*{re.escape(problem)}"):
        load_matcher(tmp_path)


def test_a_question_fills_in_the_slots_said_and_drops_the_ones_not_said() -> None:
    intent = Intent(name="timer.ask", sentences=["set a [{name:name}] timer"],
                    ask="How long for the {name} timer?",
                    complete=["set a {name} timer for {answer}"])  # fmt: skip
    matcher = Matcher([SkillFile(intent=[intent])])
    pasta, plain = matcher.match("set a pasta timer"), matcher.match("set a timer")
    assert pasta is not None and plain is not None
    assert pasta.ask == "How long for the pasta timer?"
    assert pasta.completed("Ten minutes.") == ["set a pasta timer for ten minutes"]
    assert plain.completed("I'm not sure.") == ["set a timer for I'm not sure"]
    assert plain.completed("TV time") == ["set a timer for TV time"]
    assert plain.completed(" 5 minutes ") == ["set a timer for 5 minutes"]


def test_a_follow_up_means_a_request_with_the_slots_of_both_turns(tmp_path: Path) -> None:
    (tmp_path / "lists.toml").write_text(
        '[[intent]]\nname = "list.add"\nsentences = ["add {items:text} to the {list:text} list"]'
        '\n[[follow_up]]\nafter = ["list.add"]\nsaid = "and {items:name}"\n'
        'means = "add {items} to the {list} list"\n'
    )
    matcher = load_matcher(tmp_path)
    before = matcher.match("add milk to the packing list")
    assert before is not None
    assert matcher.followed(before, "And socks.") == "add socks to the packing list"
    assert matcher.followed(before, "what time is it") is None
    (tmp_path / "lists.toml").write_text(
        '[[follow_up]]\nafter = ["list.ad"]\nsaid = "and {items:name}"\nmeans = "add {items}"\n'
    )
    with pytest.raises(TemplateError, match=r"lists\.toml.*'list\.ad', which is no intent"):
        load_matcher(tmp_path)


@pytest.mark.parametrize(
    ("before", "said", "meant"),
    [
        ("what time is it", "And in Tokyo?", "what time is it in tokyo"),
        ("what time is it in london", "what about Paris", "what time is it in paris"),
        ("how many days until christmas", "and until easter", "how many days until easter"),
        ("how many working days until christmas", "and until new year's eve?",
         "how many weekdays until new year's eve"),
        ("how many weekdays until friday", "what about monday", "how many weekdays until monday"),
        ("how many cups in a liter", "and in a gallon?", "convert 1 gallon to cup"),
        ("convert 5 km to miles", "and in feet?", "convert 5.0 kilometre to feet"),
        ("convert 5 km to miles", "and 10?", "convert 10 kilometre to mile"),
        ("set an alarm for 6:45 tomorrow", "and another one for 7",
         "set an alarm for 7 tomorrow"),
        ("set a timer for 10 minutes", "and another one for 5 minutes",
         "set a timer for 5 minutes"),
        ("set a timer for 5 minutes called eggs", "and another for 10 minutes for pasta",
         "set a timer for 10 minutes called pasta"),
        ("set a 3 minute tea timer", "cancel it", "cancel the tea timer"),
        ("set an alarm for 7 pm tomorrow", "cancel it", "cancel the alarm at 19:00 tomorrow"),
        ("wake me up at 6:30 am", "actually turn it off", "cancel the alarm at 06:30"),
        ("when is the next full moon", "and the new moon?", "when is the next new moon"),
        ("how far is paris from rome", "and from Berlin?", "how far is paris from berlin"),
        ("how far is paris from rome", "what about Madrid", "how far is madrid from rome"),
        ("how far away is tokyo", "and Sydney?", "how far away is sydney"),
        ("remind me to call mum at 5", "cancel that", "cancel my reminder to call mum"),
        ("remind me in an hour to check the oven", "what time will that be",
         "when is my reminder to check the oven"),
        ("add milk to my packing list", "add eggs", "add eggs to the packing list"),
        ("what's on my shopping list", "add eggs", "add eggs to the shopping list"),
        ("what's on my shopping list", "add bread and butter to it",
         "add bread and butter to the shopping list"),
        ("add milk and eggs to my shopping list", "remove eggs",
         "remove eggs from the shopping list"),
        ("what's on my packing list", "take the towel off",
         "remove the towel from the packing list"),
    ],
)  # fmt: skip
def test_a_follow_up_of_a_shipped_skill_is_the_request_it_means(
    matcher: Matcher, before: str, said: str, meant: str
) -> None:
    (request,) = matcher.match_all(before)
    text, matches = skill_text(matcher, None, said, request)
    assert (text, bool(matches)) == (meant, True)
    # Not right after it: the words alone (no template fits these, or one asks which list).
    alone = skill_text(matcher, None, said)[1]
    assert not alone or alone[-1].ask, alone


def test_a_place_that_names_no_time_zone_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text('[places]\njapan = "Asia/Tokio"\n')
    with pytest.raises(TemplateError, match=r"mine\.toml.*japan: 'Asia/Tokio' is no IANA"):
        load_matcher(tmp_path)


def test_a_unit_whose_otherwise_names_no_unit_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        '[units.ounce]\ndimension = "mass"\nfactor = 0.028\nnames = ["ounce"]\n'
        'otherwise = "fluid_once"\n'
    )
    with pytest.raises(TemplateError, match=r"units\.ounce: otherwise = 'fluid_once' is no"):
        load_matcher(tmp_path)


def test_a_unit_whose_then_is_of_another_dimension_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        '[units.foot]\ndimension = "length"\nfactor = 0.3\nnames = ["foot"]\nthen = "gram"\n'
        '[units.gram]\ndimension = "mass"\nfactor = 0.001\nnames = ["gram"]\n'
    )
    with pytest.raises(TemplateError, match=r"units\.foot: then = 'gram' is no unit's key of"):
        load_matcher(tmp_path)


@pytest.mark.parametrize("date", ["25-12", "12-32", "christmas", "easter+", "13-mon-1", "11-thu-6"])
def test_a_holiday_that_names_no_day_is_an_error_naming_it(tmp_path: Path, date: str) -> None:
    (tmp_path / "mine.toml").write_text(f'[holidays]\nchristmas = "{date}"\n')
    with pytest.raises(TemplateError, match=r"mine\.toml.*holidays: christmas: "):
        load_matcher(tmp_path)


@pytest.mark.parametrize(
    ("text", "finished"),
    [
        ("What time is it?", True),
        ("Set a timer.", False),  # "... for ten minutes" may follow the pause
        ("Remind me to call", False),  # a free-text slot runs to the end
        ("Forget everything.", True),  # asks to confirm: nothing said after completes it
        ("Say that again.", True),
        ("What is the capital of France?", False),  # no skill: the words decide elsewhere
    ],
)
def test_a_finished_command_ends_the_turn_at_a_pause(
    matcher: Matcher, text: str, finished: bool
) -> None:
    assert finished_command(matcher, text) is finished


SAMPLE_VALUES = {"number": "5", "duration": "5 minutes", "time": "7 pm", "day": "tomorrow",
                 "text": "buy milk", "name": "pasta", "math": "2 plus 2", "place": "tokyo",
                 "unit": "metres", "answer": "yes", "repeat": "every day",
                 "holiday": "christmas", "word": "necessary", "letter": "r",
                 "list": "shopping", "month": "february", "season": "spring",
                 "part_of_day": "morning", "weekdays": "fridays",
                 "numbers": "4, 8 and 15", "amount": "2 and a half", "food": "chicken"}  # fmt: skip
"""What each slot kind says in the examples below."""

_PIECE = re.compile(r"\{[^{}]+\}|[()\[\]|]|[^\s()\[\]|{}]+")


def said_by(sentence: str, *, optional: bool) -> str:
    """One text ``sentence`` fits: each ``(a|b)`` says its first choice, each ``[a|b]`` its
    first choice when ``optional`` (else nothing), each slot its kind's sample value."""
    pieces = _PIECE.findall(re.sub(r"\b(\w+)\[(\w+)\]", r"(\1|\1\2)", sentence))
    at = 0

    def sequence() -> list[str]:
        nonlocal at
        words: list[str] = []
        while at < len(pieces) and pieces[at] not in (")", "]", "|"):
            piece = pieces[at]
            at += 1
            if piece in ("(", "["):
                first = sequence()
                while pieces[at] == "|":  # the other choices are read past, not said
                    at += 1
                    sequence()
                at += 1
                words += first if piece == "(" or optional else []
            elif piece.startswith("{"):
                name, _, kind = piece[1:-1].partition(":")
                words.append(SAMPLE_VALUES[kind or name])
            else:
                words.append(piece)
        return words

    return " ".join(sequence()).replace(" 's", "'s")


def test_every_sentence_of_the_skills_is_reachable(matcher: Matcher) -> None:
    """Each template sentence, said with its first choices (with and without its optional
    words), is matched to its own intent: an earlier or more specific sentence of another
    intent does not shadow it. A failure names the sentence and what took its words."""
    shadowed = []
    for intent in matcher.intents:
        for sentence in intent.sentences:
            for optional in (False, True):
                text = said_by(sentence, optional=optional)
                found = matcher.match(text)
                if found is None or found.intent != intent.name:
                    shadowed.append(f"{intent.name}: {sentence!r} said as {text!r} -> "
                                    f"{found.intent if found else None}")  # fmt: skip
    assert not shadowed, "\n".join(shadowed)
