"""The built-in skills: what each intent does, as pure functions of a `SkillBook` and a time.

A `SkillBook` holds the pending timers, alarms and reminders and answers a `SkillMatch` with
an `Answer`: the words to say and the items it created or changed (which the skills actor
makes durable). Nothing here does I/O or reads the clock itself, so every answer can be
tested at any instant. Bad input (a negative or ten-year timer, 25:61, a time already past)
is refused in words, and a refusal changes nothing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
import re
import zoneinfo
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from msgspec.structs import replace

from solo_actors.config.schema import SkillsConfig
from solo_actors.messages import Exchange, ListItem, MemoryItem, SkillItem, SkillKind, SkillRepeat
from solo_actors.skills.arithmetic import (
    SUMMARIES,
    apply,
    factorised,
    primality,
    spoken_number,
    summarised,
)
from solo_actors.skills.chance import flipped, picked, rolled, told_joke
from solo_actors.skills.dates import (
    age_born_in,
    day_of_year,
    days_between,
    days_in_month,
    holiday_this_year,
    leap_year,
    month_end,
    named_weekdays,
    plural,
    quarter,
    since_holiday,
    spoken_clock,
    spoken_date,
    until_holiday,
    until_weekday,
    upcoming_leap_day,
    week_of_year,
    weekday_in_year,
    weekdays_left,
    weekdays_until,
    weekend_said,
    weeks_left,
    year_apart,
    years_since,
)
from solo_actors.skills.distance import distance_said
from solo_actors.skills.holidays import Holiday, dated, next_on
from solo_actors.skills.money import discounted, shared, tipped
from solo_actors.skills.moon import Phase, next_phase, phase_name
from solo_actors.skills.places import (
    Location,
    Place,
    city_of,
    clock_label,
    configured_location,
    next_clock_change,
    offset_at,
    system_zone,
    zone_cities,
    zone_countries,
    zone_location,
)
from solo_actors.skills.spelling import counted, spelled
from solo_actors.skills.stopwatch import STOPWATCH_INTENTS, Stopwatch
from solo_actors.skills.sun import (
    NOWHERE,
    SEASON_STARTS,
    SunAsked,
    season_now,
    season_start,
    sun_answer,
)
from solo_actors.skills.templates import Food, Matcher, SkillMatch, Unit
from solo_actors.skills.words import (
    MONTHS,
    REPEATING,
    WEEKDAYS,
    ClockTime,
    SlotError,
    calendar_day,
    day_and_part,
    in_your_words,
    normalise,
    of_month,
    ordinal,
    reminded,
    spoken_and,
    spoken_duration,
)

LONGEST_SPAN_S = 36_500 * 86400
"""The longest span a date is counted over ("what's the date in 100 years" is refused)."""
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "last": -1,
            "latest": -1}  # fmt: skip
"""A timer named by its place among those pending, soonest first, as "what timers do I
have" lists them ("cancel the second timer"); a timer labelled so is that one."""
WEEKS_UNTIL = "time.weeks_until"
""""How many weeks until Christmas": `time.until`, said in weeks and days."""
SAID_AGAIN = ("repeat", "repeat.said")
"""The intents that say the conversation's last turn again: Solo's reply, or the user's words."""
RELATIVE_DAYS = {"today": 0, "tomorrow": 1, "day after tomorrow": 2}
RELATIVE_DAYS_SAID = {"day after tomorrow": "the day after tomorrow"}
"""How a day of ``RELATIVE_DAYS`` is said in a sentence where its key alone is not."""
PART_HOURS = {"afternoon": 15, "evening": 19, "night": 21}
"""A reminder's hour for a part of the day said without a time (the morning's is
``[skills] reminder_hour``)."""
REMINDERS_SET = ("reminder.set", "reminder.ask_when")
"""The intents that set a reminder (or ask when to): refused for a task that repeats."""
MIDNIGHT = ClockTime(hour=0, minute=0)
"""When today ends: "how many hours until tomorrow" is the time until it."""
BINARY_INTENTS = {"math.divide": "/", "math.multiply": "*", "math.add": "+",
                  "math.subtract": "-"}  # fmt: skip


@dataclass(frozen=True)
class Answer:
    """What to say, and what changed: new or updated items (cancelled, extended)."""

    text: str
    changed: list[SkillItem] = field(default_factory=list)
    refused: bool = False
    stop: bool = False
    """End ringing and playback (the "stop" skill)."""
    announce: str = ""
    """Say this in every room but the asker's (the "announce" skill)."""
    forgotten: list[str] = field(default_factory=list)
    """Words the user just had Solo forget, quoted in `text` so they hear what went: the
    store's record of the turn keeps `FORGOTTEN_WORDS` in their place."""
    to_llm: bool = False
    """The turn is better the llm's (what a memory skill found, the llm reads with it): a
    turn that asked only this goes there; `text` is said only beside other requests."""
    listed: list[ListItem] = field(default_factory=list)
    """List items added or crossed off (the ``list.*`` intents): to make durable."""
    recalled: list[MemoryItem] = field(default_factory=list)
    """With ``to_llm``: the memories the llm should read with the turn (`SkillDeclined`)."""


PARTS_OF_THE_DAY = ((21, "night"), (17, "evening"), (12, "afternoon"), (5, "morning"))
"""Each part of the day and the hour it begins, latest first; the night runs on past
midnight until the morning."""


def relative_said(day: str) -> str:
    """ "tomorrow", "the day after tomorrow": a day of ``RELATIVE_DAYS`` as said."""
    return RELATIVE_DAYS_SAID.get(day, day)


def refuse(text: str) -> Answer:
    return Answer(text, refused=True)


def said_again(match: SkillMatch, last: Exchange | None) -> Answer:
    """ "Say that again" (``repeat``): the last reply, word for word; "what did I just say?"
    (``repeat.said``): the user's last words."""
    if last is None:
        return Answer("We haven't said anything yet in this conversation.")
    if match.intent == "repeat.said":
        return Answer(f'You said: "{last.said}"')
    return Answer(last.reply)


def spoken_span(seconds: float) -> str:
    """ "10 days", "2 weeks", "3 hours": a length of days said in days (weeks when whole)."""
    days, rest = divmod(round(seconds), 86400)
    if not days or rest:
        return spoken_duration(seconds) if not days else f"{seconds / 86400:g} days"
    weeks, odd = divmod(days, 7)
    return plural(weeks, "week") if weeks and not odd else plural(days, "day")


def length_name(seconds: float) -> str:
    """ "5 minute", as in "the 5 minute timer" (units singular before a noun)."""
    return re.sub(r"\b(hour|minute|second)s\b", r"\1", spoken_duration(seconds))


def named_length(match: SkillMatch, *, by_length: bool = True) -> float | None:
    """The length of the timer ``match`` names ("the 5 minute timer"): its ``length`` slot,
    or with ``by_length`` its ``duration`` ("cancel the 10 minute timer"), which is no
    timer's length where it is the time to add or take off."""
    length = match.slots.get("length", match.slots.get("duration") if by_length else None)
    return None if length is None else float(length)


def timer_name(item: SkillItem) -> str:
    """ "pasta timer", or "5 minute timer"."""
    return f"{item.label or length_name(item.length)} timer"


def hours_meant(
    clock: ClockTime, part: str | None, morning: bool, on_a_day: bool, early_afternoon: bool
) -> list[int]:
    """The hours ``clock`` may mean (`SkillBook.when`): as said with am/pm or past 12; else
    in the part of the day said ("am"/"pm"); else in the morning (waking up); else, before 7
    on a named day or with ``early_afternoon`` (a reminder), in the afternoon ("friday at
    5", "remind me to have lunch at 1"); else as said on a named day; else either."""
    if clock.meridiem or not 1 <= clock.hour <= 12:
        return [clock.hour]
    if part is not None:
        return [clock.hour % 12 + (12 if part == "pm" else 0)]
    if morning:
        return [clock.hour % 12]
    if clock.hour < 7 and (on_a_day or early_afternoon):
        return [clock.hour + 12]
    if on_a_day:
        return [clock.hour % 12]
    return [clock.hour % 12, clock.hour % 12 + 12]


def repeats_on(rule: SkillRepeat, day: dt.date) -> bool:
    """Whether something that ``rule`` repeats comes on ``day``."""
    if rule == "daily":
        return True
    if rule in ("weekdays", "weekends"):
        return (day.weekday() < 5) == (rule == "weekdays")
    if rule.startswith("monthly-"):  # in a month without that day, on its last
        last = calendar.monthrange(day.year, day.month)[1]
        return day.day == min(int(rule.removeprefix("monthly-")), last)
    return WEEKDAYS[day.weekday()] == rule


def spoken_repeat(rule: SkillRepeat) -> str:
    """ "every day", "on weekdays", "at weekends", "every Monday", "on the 15th of every
    month"."""
    said = {"daily": "every day", "weekdays": "on weekdays", "weekends": "at weekends"}
    if rule.startswith("monthly-"):
        return f"on the {ordinal(int(rule.removeprefix('monthly-')))} of every month"
    return said.get(rule, f"every {rule.capitalize()}")


def unit_said(key: str, unit: Unit, amount: float) -> str:
    """ "inch" for 1 (`Unit.say_one`, else the key), "inches" for any other amount
    (`Unit.say`, else the key and an s)."""
    return (unit.say_one or key) if amount == 1 else unit.say or f"{key}s"


def to_the_minute(seconds: float) -> float:
    """``seconds`` to the nearest minute once a minute or more: how long until a time that
    names no seconds ("48 minutes", not "48 minutes and 3 seconds")."""
    return seconds if seconds < 60 else round(seconds / 60) * 60


LONGEST_DAYS = {
    "sun.longest_day": ("longest", "summer"),
    "sun.shortest_day": ("shortest", "winter"),
}
"""The day each intent asks for, and the season it begins."""

NOWHERE_TO_MEASURE_FROM = (
    "I don't know where you are, so I can't say how far that is. Set skills.location in Solo's "
    "config: 'latitude, longitude', or a city such as 'paris'. Or ask how far it is from a city"
)


def city_location(place: Place) -> Location:
    """Where ``place`` is; a `ValueError` saying so if it is no city of the zone database: a
    country, or a city the skill files give another city's zone ("san francisco"), is not
    where that zone's city is."""
    location = zone_location(place.zone) if zone_cities().get(place.said) == place.zone else None
    if location is None:
        raise ValueError(f"I only know where cities are, and {place.name} is not one I know. "
                         "Ask, for example: how far is Tokyo from London")  # fmt: skip
    return location


def safe_temperature(food: Food) -> str:
    """ "The safe inside temperature for chicken and other poultry is 165 degrees Fahrenheit,
    74 Celsius, at the thickest part.", and how long red meat rests after."""
    rest = f", with {food.rest} minutes' rest after cooking" if food.rest else ""
    return (f"The safe inside temperature for {food.said} is {food.fahrenheit} degrees "
            f"Fahrenheit, {food.celsius} Celsius, at the thickest part{rest}.")  # fmt: skip


def zone_time(place: Place) -> str:
    """ "Tokyo time", "Eastern time", "UK time": a place's clock, as a time is said in it."""
    return f"{place.name.removeprefix('the ').removesuffix(' Time').removesuffix(' time')} time"


def said_or_sorry(say: Callable[[], str]) -> Answer:
    """What ``say`` says, or its `ValueError` as a refusal ("Sorry, a die has 2 to ...")."""
    try:
        return Answer(say())
    except ValueError as error:
        return refuse(f"Sorry, {error}.")


def said_word(match: SkillMatch) -> str:
    """The word to spell or count the letters of, as stt wrote it or the user typed it."""
    return match.said.get("word", str(match.slots["word"]))


def name_key(name: str) -> str:
    words = [w for w in name.lower().split()
             if w not in ("the", "my", "a", "timer", "alarm", "one")]  # fmt: skip
    return " ".join(words)


_CLOCK_LABEL = re.compile(r"\d{1,2}:\d{2} [AP]M")


def alarm_name(item: SkillItem) -> str:
    """An alarm's name ("gym"), or "" for one named by its time: its label is then the time
    it was set for ("7:00 AM", the default, `spoken_clock`)."""
    return "" if _CLOCK_LABEL.fullmatch(item.label) else item.label


def alarms_called(alarms: list[SkillItem], key: str) -> list[SkillItem]:
    """Those of `alarms` whose name is `key` (a `name_key`), or holds it, or is in it."""
    return [a for a in alarms if (name := alarm_name(a)) and (key in name or name in key)]


class SkillBook:
    """Pending timers, alarms and reminders, and the answer to every built-in intent."""

    def __init__(self, settings: SkillsConfig, matcher: Matcher) -> None:
        self.settings = settings
        self.matcher = matcher
        self.zone = zoneinfo.ZoneInfo(settings.timezone) if settings.timezone else None
        self.location = configured_location(settings.location, settings.timezone)
        self.home_city = city_of(settings.timezone or system_zone())
        """The city of Solo's time zone ("London"), "" when it names none ("UTC")."""
        self.items: dict[str, SkillItem] = {}
        self.room: str | None = None
        """The room of the request being answered (`answer`), which new items ring in."""
        self.handlers: dict[str, Callable[[SkillMatch, float], Answer]] = {
            "time.now": self.time_now, "time.in_place": self.time_in_place,
            "time.date": self.date, "time.weekday": self.weekday,
            "time.is_weekday": self.weekday, "time.until": self.until, WEEKS_UNTIL: self.until,
            "time.yesterday": self.yesterday, "time.later": self.later,
            "time.clock_after": self.clock_after, "time.clock_before": self.clock_after,
            "time.convert": self.clock_elsewhere,
            "time.since": lambda match, now: Answer(
                since_holiday(match.slots["holiday"], self.today(now))),
            "time.this_year": lambda match, now: Answer(
                holiday_this_year(match.slots["holiday"], self.today(now))),
            "time.weekend": self.weekend, "time.weekdays_until": self.weekdays_until,
            "time.weekdays_left_year": lambda _match, now: Answer(
                weekdays_left(self.today(now), self.settings.weekend, in_month=False)),
            "time.weekdays_left_month": lambda _match, now: Answer(
                weekdays_left(self.today(now), self.settings.weekend, in_month=True)),
            "time.weekday_count_year": lambda match, now: Answer(
                named_weekdays(match.slots["weekday"], None, self.today(now))),
            "time.weekday_count_month": lambda match, now: Answer(named_weekdays(
                match.slots["weekday"], match.slots.get("month", self.today(now).month),
                self.today(now))),
            "time.next_year": self.holiday_year_apart, "time.last_year": self.holiday_year_apart,
            "time.date_in": self.date_in, "time.date_ago": self.date_in,
            "time.date_from": self.date_from, "time.date_before": self.date_from,
            "time.part_of_day": self.part_of_day,
            "time.until_clock": self.until_clock, "time.until_midnight": self.until_clock,
            "time.between": lambda match, now: Answer(
                days_between(match.slots["start"], match.slots["end"], self.today(now))),
            "time.years_since": lambda match, now: said_or_sorry(
                lambda: years_since(match.slots["year"], self.today(now))),
            "time.year_ago": self.year_then, "time.year_in": self.year_then,
            "time.weekday_in_year": lambda match, now: said_or_sorry(lambda: weekday_in_year(
                match.slots["holiday"], match.slots["year"], self.today(now))),
            "moon.next_full": self.next_moon, "moon.next_new": self.next_moon,
            "moon.phase": self.moon_phase,
            "sun.sunrise": self.sun, "sun.sunset": self.sun, "sun.daylight": self.sun,
            "distance.between": self.distance, "distance.from_here": self.distance,
            "sun.season": self.season, "sun.season_start": self.season,
            "sun.longest_day": self.season, "sun.shortest_day": self.season,
            "time.difference": self.time_difference, "time.zone": self.time_zone,
            "time.date_in_place": self.date_in_place,
            "time.month_end": lambda match, now: Answer(month_end(self.today(now))),
            "time.daylight_saving": self.daylight_saving, "time.clock_change": self.clock_change,
            "time.age": lambda match, now: said_or_sorry(
                lambda: age_born_in(match.slots["year"], self.today(now))),
            "time.leap_year": lambda match, now: said_or_sorry(
                lambda: leap_year(match.slots.get("year"), self.today(now))),
            "time.days_in_month": lambda match, now: said_or_sorry(lambda: days_in_month(
                match.slots.get("month"), match.slots.get("year"), self.today(now))),
            "time.next_leap_year": lambda _match, now: Answer(upcoming_leap_day(self.today(now))),
            "time.week": lambda _match, now: Answer(week_of_year(self.today(now))),
            "time.day_of_year": lambda _match, now: Answer(day_of_year(self.today(now))),
            "time.weeks_left": lambda _match, now: Answer(weeks_left(self.today(now))),
            "time.quarter": lambda _match, now: Answer(quarter(self.today(now))),
            "timer.set": self.timer_set, "timer.remaining": self.timer_remaining,
            "timer.list": self.timer_remaining, "timer.cancel": self.timer_cancel,
            "timer.cancel_all": self.cancel_all, "timer.add": self.timer_add,
            "timer.subtract": self.timer_subtract,
            "timer.pause": self.timer_pause, "timer.resume": self.timer_resume,
            "alarm.set": self.alarm_set, "alarm.wake": self.alarm_set, "alarm.list": self.listing,
            # The book alone knows of no ringing: the skills actor passes the alarm it rings.
            "alarm.snooze": lambda match, now: self.snooze(match, now, None),
            "alarm.cancel": self.alarm_cancel, "alarm.cancel_all": self.cancel_all,
            "alarm.change": self.alarm_change,
            "reminder.set": self.reminder_set, "reminder.list": self.listing,
            "reminder.when": self.reminder_when,
            "reminder.in_past": lambda match, _now: refuse(
                "Sorry, I can't remind you in the past. Say a time to come: remind me "
                f"{reminded(match.slots['task'])} tomorrow at 9, for example."),
            "schedule.day": self.listing, "schedule.week": self.week_listing,
            "reminder.repeat": self.reminder_repeat,
            "reminder.cancel": self.reminder_cancel, "reminder.cancel_all": self.cancel_all,
            "math.calculate": self.calculate, "convert": self.convert,
            "convert.compound": self.convert_compound,
            "math.tip": lambda match, _now: said_or_sorry(
                lambda: tipped(match.slots["bill"], match.slots.get("rate"))),
            "math.split": lambda match, _now: said_or_sorry(
                lambda: shared(match.slots["total"], match.slots["people"])),
            "math.discount": lambda match, _now: said_or_sorry(
                lambda: discounted(match.slots["price"], match.slots["rate"])),
            **dict.fromkeys(BINARY_INTENTS, self.binary),
            "emergency.number": self.emergency_number,
            "food.safe_temperature": lambda match, _now: Answer(
                safe_temperature(match.slots["food"])),
            "math.prime": lambda match, _now: said_or_sorry(
                lambda: primality(match.slots["number"])),
            "math.factors": lambda match, _now: said_or_sorry(
                lambda: factorised(match.slots["number"])),
            **dict.fromkeys(SUMMARIES, lambda match, _now: Answer(
                summarised(match.intent, match.slots["values"]))),
            "stop": self.stop, "help": self.help,
            "help.more": self.every_skill, "announce": self.announce,
            **dict.fromkeys(STOPWATCH_INTENTS, self.stopwatch_answer),
            "chance.coin": lambda _match, _now: Answer(flipped(self.chance)),
            "chance.dice": self.dice, "chance.number": self.number, "chance.joke": self.joke,
            "spelling.spell": lambda match, _now: Answer(spelled(said_word(match))),
            "spelling.count": lambda match, _now: Answer(
                counted(said_word(match), match.slots.get("letter"))
            ),
        }  # fmt: skip
        self.chance = random.Random()
        """The coin and the dice (seeded from the system; a test seeds its own)."""
        self.jokes_told: deque[str] = deque(maxlen=max(len(matcher.jokes) - 1, 1))
        self.stopwatch = Stopwatch()

    # -- the book ---------------------------------------------------------------------------

    def pending(self, kind: SkillKind | None = None) -> list[SkillItem]:
        """Pending items of ``kind`` (every kind when None), soonest first."""
        items = [i for i in self.items.values() if kind is None or i.kind == kind]
        return sorted(items, key=lambda i: i.due_at)

    def load(self, items: list[SkillItem]) -> None:
        for item in items:
            if item.state in ("pending", "paused"):
                self.items[item.item_id] = item

    def counting(self) -> list[SkillItem]:
        """Pending items that fall due (every one but a paused timer), soonest first."""
        return [i for i in self.pending() if i.state == "pending"]

    def due(self, now: float) -> list[SkillItem]:
        return [i for i in self.counting() if i.due_at <= now]

    def fire(self, item: SkillItem, now: float, away: bool = False) -> tuple[SkillItem, str]:
        """Take ``item`` off the book as fired; the words that announce it (``away``: its
        room's satellite was not connected when it fell due)."""
        self.items.pop(item.item_id, None)
        late = now - item.due_at
        if item.kind == "timer":
            text = f"Your {timer_name(item)} is done."
        elif item.kind == "alarm":
            named = f"{alarm_name(item)} alarm".lstrip()
            text = f"It's {spoken_clock(self.local(item.due_at))}. This is your {named}."
        else:
            text = f"Reminder: {in_your_words(item.label)}."
        if late >= self.settings.late_after:
            why = f"the {item.room} was not connected" if away else "I was not running"
            text += f" This is {spoken_duration(late)} late: it fell due while {why}."
        return replace(item, state="fired", fired_at=now), text

    def answer(self, match: SkillMatch, now: float, room: str | None = None) -> Answer:
        """Answer ``match`` said at ``now``; what it sets rings in ``room`` (None: Solo's own
        speaker)."""
        if match.error is not None:
            return refuse(f"Sorry, I can't do that: {match.error}.")
        if match.intent in REMINDERS_SET and REPEATING.search(str(match.slots.get("task"))):
            return self.reminder_repeat(match, now)  # "remind me to stretch every morning"
        if match.ask:  # "set a timer": its question; the answer completes it (skills.hook)
            return Answer(match.ask)
        if isinstance(day := match.slots.get("day"), str) and of_month(day_and_part(day)[0]):
            dated = self.month_day(day, now, match.slots.get("time"), match.morning)
            match = replace(match, slots=match.slots | {"day": dated})
        handler = self.handlers.get(match.intent)
        if handler is None and (words := self.matcher.set_words(match.intent)):
            return Answer(words)  # an intent that is set words ("can you set alarms?")
        if handler is None:  # a template file names an intent no code answers yet
            return refuse(f"Sorry, I know how that is said, but no skill does {match.intent}.")
        self.room = room
        try:
            return handler(match, now)
        finally:
            self.room = None

    def add(self, item: SkillItem) -> list[SkillItem]:
        """Put a new ``item`` on the book, in the room being answered; the change to make
        durable."""
        if self.room is not None:
            item = replace(item, room=self.room)
        self.items[item.item_id] = item
        return [item]

    def cancel(self, items: list[SkillItem]) -> list[SkillItem]:
        for item in items:
            self.items.pop(item.item_id, None)
        return [replace(item, state="cancelled") for item in items]

    def create(self, kind: SkillKind, label: str, due_at: float, length: float,
               now: float, room: str | None = None,
               repeats: SkillRepeat | None = None) -> Answer:  # fmt: skip
        """A timer (``length`` seconds from ``now``), alarm or reminder (at ``due_at``, then
        again as ``repeats`` says) asked for by the API, checked as a spoken one would be; it
        rings in ``room`` (None: Solo's own speaker)."""
        if repeats is not None and kind == "timer":
            return refuse("Sorry, a timer does not repeat: set an alarm or a reminder.")
        if kind == "timer":
            problem = self.check_length(length)
            due_at = now + length
        else:
            problem = self.check_ahead(due_at, now)
        if problem:
            return refuse(problem)
        # Only once due_at is known to be near: a time far out has no date to check.
        if repeats is not None and not repeats_on(repeats, self.local(due_at).date()):
            return refuse(f"Sorry, due_at falls on a {self.local(due_at).strftime('%A')}, not "
                          f"{spoken_repeat(repeats)}.")  # fmt: skip
        if kind == "alarm" and not label:
            label = spoken_clock(self.local(due_at))
        if kind == "reminder" and not label:
            return refuse("Sorry, a reminder needs a text.")
        item = SkillItem(kind=kind, label=name_key(label) if kind == "timer" else label,
                         due_at=due_at, length=length if kind == "timer" else 0.0,
                         room=room, repeats=repeats)  # fmt: skip
        return Answer(f"{kind.capitalize()} set.", self.add(item))

    def cancel_one(self, item_id: str, kind: SkillKind | None) -> Answer:
        item = self.items.get(item_id)
        if item is None or (kind is not None and item.kind != kind):
            return refuse(f"There is no pending {kind or 'item'} {item_id}.")
        return Answer(f"Cancelled the {item.kind}.", self.cancel([item]))

    # -- time -------------------------------------------------------------------------------

    def local(self, epoch: float) -> dt.datetime:
        """``epoch`` in the configured zone (the system's when none is set)."""
        return dt.datetime.fromtimestamp(epoch, self.zone).astimezone(self.zone)

    def today(self, now: float) -> dt.date:
        return self.local(now).date()

    def at(self, day: dt.date, hour: int, minute: int, second: int = 0) -> float:
        naive = dt.datetime.combine(day, dt.time(hour, minute, second))
        moment = naive.replace(tzinfo=self.zone) if self.zone else naive.astimezone()
        return moment.timestamp()

    def month_day(self, day: str, now: float, clock: ClockTime | None, morning: bool) -> str:
        """A day of the month alone as the date it is ("the 15th evening": "december 15
        evening"): the coming one in a month that has it; today's, unless ``clock`` (the time
        said with it) has passed today, whatever hour it means."""
        name, part = day_and_part(day)
        number = of_month(name)
        assert number is not None
        today = self.today(now)
        passed = number == today.day and clock is not None and all(
            self.at(today, hour, clock.minute) <= now
            for hour in hours_meant(clock, part, morning, on_a_day=True, early_afternoon=False)
        )  # fmt: skip
        month = today.replace(day=1)
        while number > calendar.monthrange(month.year, month.month)[1] or (
            (month.year, month.month) == (today.year, today.month)
            and (number < today.day or passed)
        ):
            month = (month + dt.timedelta(days=32)).replace(day=1)  # the next month's 1st
        said = f"{MONTHS[month.month - 1]} {number}"
        return f"{said} {day.split()[-1]}" if part else said

    def day_of(self, name: str, now: float) -> dt.date:
        """The date of a day as `words.parse_day` gives it: the coming one of a weekday or
        a date ("12-25": this year's, or next year's once it has passed)."""
        today = self.today(now)
        name, _ = day_and_part(name)
        if name in RELATIVE_DAYS:
            return today + dt.timedelta(days=RELATIVE_DAYS[name])
        if (month_day := calendar_day(name)) is not None:
            return next_on(*month_day, today)
        ahead = (WEEKDAYS.index(name) - today.weekday()) % 7
        return today + dt.timedelta(days=ahead)

    def when(
        self, clock: ClockTime, day: str | None, now: float, morning: bool,
        early_afternoon: bool = False,
    ) -> float:  # fmt: skip
        """The epoch of ``clock`` on ``day`` (or next, when no day is said). An hour said
        without am/pm takes the part of the day said with it ("tomorrow evening"); else it
        is the morning for waking up; else, on a named day or for a reminder
        (``early_afternoon``: nobody is reminded at 1 am), an hour before 7 is the
        afternoon ("friday at 5"); else it is the next such hour."""
        part = day_and_part(day)[1] if day else None
        hours = hours_meant(clock, part, morning, day is not None, early_afternoon)
        start = self.day_of(day, now) if day else self.today(now)
        days = [start] if day else [start, start + dt.timedelta(days=1)]
        candidates = [self.at(d, h, clock.minute) for d in days for h in hours]
        if day and not any(c > now for c in candidates):
            # "on friday" said on a Friday evening: next week's; a date, next year's.
            name = day_and_part(day)[0]
            later = (
                start + dt.timedelta(days=7) if name in WEEKDAYS
                else self.day_of(name, now + 86400) if calendar_day(name) else None
            )  # fmt: skip
            if later is not None:
                candidates = [self.at(later, h, clock.minute) for h in hours]
        future = [c for c in candidates if c > now]
        return min(future) if future else min(candidates)

    def time_now(self, match: SkillMatch, now: float) -> Answer:
        return Answer(f"It's {spoken_clock(self.local(now))}.")

    def time_in_place(self, match: SkillMatch, now: float) -> Answer:
        """ "It's 3:26 AM in Tokyo.", with the day when it is not the local one; of two
        places, "It's 3:26 AM on Friday in Tokyo and 7:26 PM in London." (the model had made
        up both times)."""
        places: list[Place] = [
            match.slots[slot] for slot in ("place", "other") if slot in match.slots
        ]
        return Answer(f"It's {spoken_and([self.clock_in(place, now) for place in places])}.")

    def emergency_number(self, match: SkillMatch, now: float) -> Answer:
        """ "In the United Kingdom, call 9 9 9 or 1 1 2 for the police, fire or an
        ambulance.": the country of the place said, or of Solo's time zone."""
        place: Place | None = match.slots.get("place")
        zone = place.zone if place is not None else self.settings.timezone or system_zone()
        number = self.matcher.emergency.get(zone_countries().get(zone, ""))
        if number is None:
            where = f"in {place.name}" if place is not None else "where you are"
            return Answer(f"I don't know the emergency number {where}. From a mobile phone, "
                          "1 1 2 reaches emergency services in many countries, and in every "
                          "country of the European Union.")  # fmt: skip
        return Answer(f"In {number.country}, call {number.call}.")

    def clock_in(self, place: Place, now: float) -> str:
        there = dt.datetime.fromtimestamp(now, zoneinfo.ZoneInfo(place.zone))
        day = "" if there.date() == self.today(now) else f" on {there.strftime('%A')}"
        return f"{spoken_clock(there)}{day} in {place.name}"

    def date(self, match: SkillMatch, now: float) -> Answer:
        day = day_and_part(match.slots.get("day", "today"))[0]
        date = self.day_of(day, now)
        if day in WEEKDAYS and date == self.today(now):  # "next monday", said on a Monday
            week_on = date + dt.timedelta(days=7)
            return Answer(f"Today is {day.capitalize()}, {date:%B} {date.day}; next "
                          f"{day.capitalize()} is {week_on:%B} {week_on.day}.")  # fmt: skip
        if day in WEEKDAYS:  # not "Friday will be Friday, May 29"
            return Answer(f"{day.capitalize()} is {date:%B} {date.day}, {date.year}.")
        if calendar_day(day):  # "what day is december 25th"
            return Answer(f"{date:%B} {date.day}, {date.year} is a {date:%A}.")
        said = "Today" if day == "today" else relative_said(day).capitalize()
        verb = "is" if day == "today" else "will be"
        return Answer(f"{said} {verb} {spoken_date(date)}, {date.year}.")

    def part_of_day(self, match: SkillMatch, now: float) -> Answer:
        """ "It's night: 10:29 PM."; asked "is it morning": "No, it's night: 10:29 PM."."""
        moment = self.local(now)
        part = next((name for hour, name in PARTS_OF_THE_DAY if moment.hour >= hour), "night")
        said = f"it's {part}: {spoken_clock(moment)}."
        if "part" not in match.slots or "other" in match.slots:
            return Answer(said[0].upper() + said[1:])
        return Answer(f"{'Yes' if match.slots['part'] == part else 'No'}, {said}")

    def date_in_place(self, match: SkillMatch, now: float) -> Answer:
        """ "In Tokyo it's Tuesday, December 8.": the date where the place's clocks are."""
        place: Place = match.slots["place"]
        there = dt.datetime.fromtimestamp(now, zoneinfo.ZoneInfo(place.zone)).date()
        return Answer(f"In {place.name} it's {spoken_date(there)}.")

    def yesterday(self, match: SkillMatch, now: float) -> Answer:
        date = self.today(now) - dt.timedelta(days=1)
        return Answer(f"Yesterday was {spoken_date(date)}, {date.year}.")

    def later(self, match: SkillMatch, now: float) -> Answer:
        """ "In 3 hours it will be 11:26 PM.", with its day when that is not today."""
        seconds = float(match.slots["duration"])
        if not 0 < seconds <= self.settings.max_ahead_days * 86400:
            return refuse(f"Sorry, I can say the time up to {self.settings.max_ahead_days} "
                          "days ahead.")  # fmt: skip
        moment = now + seconds
        day = self.spoken_day(moment, now)
        when = "" if day == "today" else f" {day}" if day == "tomorrow" else f" on {day}"
        return Answer(f"In {spoken_duration(seconds)} it will be "
                      f"{spoken_clock(self.local(moment))}{when}.")  # fmt: skip

    def clock_after(self, match: SkillMatch, now: float) -> Answer:
        """ "3 hours after 10:00 PM is 1:00 AM, the next day.": the coming such time of day
        (as "an alarm at 10" means), counted on (``time.clock_before``: back)."""
        seconds = float(match.slots["duration"])
        if not 0 < seconds < 86400:
            return refuse("Sorry, I count from a time of day up to a day: say, for example, "
                          "\"what time is 3 hours after 10 pm\".")  # fmt: skip
        start = self.local(self.when(match.slots["time"], None, now, morning=False))
        before = match.intent == "time.clock_before"
        end = self.local(start.timestamp() + (-seconds if before else seconds))
        day = ("" if end.date() == start.date()
               else ", the day before" if before else ", the next day")  # fmt: skip
        said = f"{spoken_duration(seconds)} {'before' if before else 'after'} {spoken_clock(start)}"
        return Answer(f"{said[0].upper()}{said[1:]} is {spoken_clock(end)}{day}.")

    def clock_elsewhere(self, match: SkillMatch, now: float) -> Answer:
        """ "9:00 AM New York time is 2:00 PM London time.": today's such time there, said
        in the other place (with ", the next day" or ", the day before" when that differs)."""
        place: Place = match.slots["place"]
        other: Place = match.slots["other"]
        clock: ClockTime = match.slots["time"]
        there = zoneinfo.ZoneInfo(place.zone)
        hour = hours_meant(clock, None, False, on_a_day=True, early_afternoon=False)[0]
        day = dt.datetime.fromtimestamp(now, there).date()
        start = dt.datetime(day.year, day.month, day.day, hour, clock.minute, tzinfo=there)
        end = start.astimezone(zoneinfo.ZoneInfo(other.zone))
        shift = (end.date() - start.date()).days
        said_day = {1: ", the next day", -1: ", the day before"}.get(shift, "")
        return Answer(f"{spoken_clock(start)} {zone_time(place)} is {spoken_clock(end)} "
                      f"{zone_time(other)}{said_day}.")  # fmt: skip

    def date_in(self, match: SkillMatch, now: float) -> Answer:
        """ "In 10 days it will be Sunday, June 7."; ``time.date_ago``: "30 days ago it
        was Tuesday, April 28." (with the year when it is not this one)."""
        seconds = float(match.slots["duration"])
        if not 0 < seconds <= LONGEST_SPAN_S:
            return refuse(f"Sorry, I can count up to {LONGEST_SPAN_S // 86400:,} days.")
        ago = match.intent == "time.date_ago"
        date = self.local(now - seconds if ago else now + seconds).date()
        said = spoken_date(date) + (f", {date.year}" if date.year != self.today(now).year else "")
        length = spoken_span(seconds)
        if ago:
            return Answer(f"{length.capitalize()} ago it was {said}.")
        still = " still" if date == self.today(now) else ""
        return Answer(f"In {length} it will{still} be {said}.")

    def until_clock(self, match: SkillMatch, now: float) -> Answer:
        """ "It's 3 hours and 33 minutes until 12:00 AM tomorrow.": the next such time, to
        the nearest minute once a minute or more away (a clock time names no seconds)."""
        due = self.when(match.slots.get("time", MIDNIGHT), None, now, morning=False)
        until = self.spoken_when(due, now) if "time" in match.slots else "midnight"
        return Answer(f"It's {spoken_duration(to_the_minute(due - now))} until {until}.")

    def weekday(self, match: SkillMatch, now: float) -> Answer:
        today = self.local(now).strftime("%A")
        day = day_and_part(match.slots["day"])[0] if "day" in match.slots else None
        if day is not None and calendar_day(day) and match.intent == "time.is_weekday":
            yes = self.day_of(day, now) == self.today(now)  # "is it december 25th"
            return Answer(f"{'Yes' if yes else 'No'}, today is {spoken_date(self.today(now))}.")
        if day in WEEKDAYS and match.intent == "time.is_weekday":
            yes = today.lower() == day
            return Answer(f"{'Yes' if yes else 'No'}, today is {today}.")
        if day in WEEKDAYS or (day is not None and calendar_day(day)):  # its date
            return self.date(match, now)
        if day in RELATIVE_DAYS and day != "today":
            said = relative_said(day).capitalize()
            return Answer(f"{said} is {self.day_of(day, now).strftime('%A')}.")
        return Answer(f"Today is {today}.")

    def weekend(self, match: SkillMatch, now: float) -> Answer:
        """ "is it the weekend", "is tomorrow a weekday" (the weekend's days are settings)."""
        day = day_and_part(match.slots["day"])[0] if "day" in match.slots else "today"
        date = self.day_of(day, now)
        said = f"{date:%B} {date.day}" if calendar_day(day) else day  # "December 25"
        return Answer(weekend_said(date, self.today(now), self.settings.weekend, said))

    def weekdays_until(self, match: SkillMatch, now: float) -> Answer:
        """ "how many working days until christmas", "... until friday" (the weekend's days
        are settings)."""
        date, name = self.named_day(match, now)
        return Answer(weekdays_until(date, name, self.today(now), self.settings.weekend))

    def named_day(self, match: SkillMatch, now: float) -> tuple[dt.date, str]:
        """The coming date of the ``holiday`` or ``day`` slot and its name as said back:
        "Christmas", "December 25", "tomorrow", "Friday"."""
        if "holiday" in match.slots:
            holiday: Holiday = match.slots["holiday"]
            return holiday.next_date(self.today(now)), holiday.name
        day = day_and_part(match.slots["day"])[0]
        date = self.day_of(day, now)
        return date, (f"{date:%B} {date.day}" if calendar_day(day)
                      else relative_said(day) if day in RELATIVE_DAYS
                      else day.capitalize())  # fmt: skip

    def date_from(self, match: SkillMatch, now: float) -> Answer:
        """ "what's the date a week from tomorrow": "A week from tomorrow is Tuesday,
        December 15."; ``time.date_before``: "3 days before Easter is Thursday, March 25,
        2027." (with the year when it is not this one)."""
        days, rest = divmod(float(match.slots.get("duration", 86400)), 86400)
        if rest or not days:
            return refuse("Sorry, I count from a day in whole days or weeks: say, for "
                          "example, \"what's the date a week from Friday\".")  # fmt: skip
        if days * 86400 > LONGEST_SPAN_S:
            return refuse(f"Sorry, I can count up to {LONGEST_SPAN_S // 86400:,} days.")
        start, name = self.named_day(match, now)
        before = match.intent == "time.date_before"
        date = start + dt.timedelta(days=-days if before else days)
        today = self.today(now)
        said = spoken_date(date) + (f", {date.year}" if date.year != today.year else "")
        span = (
            "the day"
            if "duration" not in match.slots  # "the day after Christmas"
            else spoken_span(days * 86400).replace("1 week", "a week").replace("1 day", "a day")
        )
        # "a week from Friday", but "3 days after Christmas".
        day = match.slots.get("day")
        from_day = day is not None and calendar_day(day_and_part(day)[0]) is None
        word = "before" if before else "from" if from_day else "after"
        verb = "was" if date < today else "is"
        return Answer(f"{span.capitalize()} {word} {name} {verb} {said}.")

    def holiday_year_apart(self, match: SkillMatch, now: float) -> Answer:
        """ "when is thanksgiving next year", "when was easter last year"."""
        today = self.today(now)
        year = today.year + (1 if match.intent == "time.next_year" else -1)
        return said_or_sorry(lambda: weekday_in_year(match.slots["holiday"], year, today))

    def until(self, match: SkillMatch, now: float) -> Answer:
        """How long until a holiday, a date or a day ("how many days until friday")."""
        today = self.today(now)
        if "holiday" in match.slots:
            holiday: Holiday = match.slots["holiday"]
            return Answer(until_holiday(holiday, today, in_weeks=match.intent == WEEKS_UNTIL))
        day = day_and_part(match.slots["day"])[0]
        if calendar_day(day) is not None:  # "until december 25th"
            return Answer(until_holiday(dated(day), today))
        date = self.day_of(day, now)
        if day in WEEKDAYS:
            return Answer(until_weekday(day, date, today))
        return Answer(f"{relative_said(day).capitalize()} is {spoken_date(date)}.")  # "tomorrow"

    # -- timers -----------------------------------------------------------------------------

    def check_length(self, seconds: float, what: str = "timer") -> str | None:
        if seconds < 1:
            return f"Sorry, a {what} must be at least a second long."
        if seconds > self.settings.max_timer:
            longest = spoken_duration(self.settings.max_timer)
            return f"Sorry, I can't set a {what} that long: the longest is {longest}."
        return None

    def timer_set(self, match: SkillMatch, now: float) -> Answer:
        seconds = float(match.slots["duration"])
        problem = self.check_length(seconds)
        if problem:
            return refuse(problem)
        name = name_key(match.slots.get("name", ""))
        item = SkillItem(kind="timer", label=name, due_at=now + seconds, length=seconds)
        said = f"{name.capitalize()} timer" if name else "Timer"
        return Answer(f"{said} set for {spoken_duration(seconds)}.", self.add(item))

    def timers_named(self, match: SkillMatch, *, by_length: bool = True) -> list[SkillItem]:
        """The pending timers ``match`` names: by label, else by length ("the 5 minute
        timer": the ``length`` slot, or ``duration`` unless that is something else, the
        time to add), else all."""
        timers = self.pending("timer")
        key = name_key(match.slots.get("name", ""))
        if key:
            named = [t for t in timers if t.label and (key in t.label or t.label in key)]
            if not named and key in ORDINALS:  # "the second timer", as Solo lists them
                place = ORDINALS[key]
                return [timers[place]] if -len(timers) <= place < len(timers) else []
            return named
        length = named_length(match, by_length=by_length)
        if length is not None:
            name = length_name(length)
            return [t for t in timers if abs(t.length - length) < 1 or t.label == name]
        return timers

    def no_timer(self, match: SkillMatch, *, by_length: bool = True) -> Answer:
        """ "You have no pasta timer.", "... no 5 minute timer.", or "... no timers."; with the
        timers there are, if any ("You have no T timer, only the tea timer."): a name may be
        stt's mishearing, and the user can say it again as Solo knows it. ``by_length`` as
        for `timers_named`, which found none."""
        length = named_length(match, by_length=by_length)
        if "name" in match.slots:
            missing = f"You have no {match.said.get('name', match.slots['name'])} timer"
        elif length is not None:
            missing = f"You have no {length_name(length)} timer"
        else:
            return Answer("You have no timers.")
        timers = self.pending("timer")
        if not timers:
            return Answer(f"{missing}.")
        if len(timers) == 1:
            return Answer(f"{missing}, only the {timer_name(timers[0])}.")
        names = ", ".join(timer_name(timer) for timer in timers)
        return Answer(f"{missing}. You have {len(timers)} timers: {names}.")

    def which_timer(self, timers: list[SkillItem], action: str) -> Answer:
        """The question back when more than one timer fits: each by its name."""
        names = ", ".join(timer_name(t) for t in timers)
        return Answer(f"You have {len(timers)} timers: {names}. {action}")

    def timer_remaining(self, match: SkillMatch, now: float) -> Answer:
        timers = self.timers_named(match)
        if not timers:
            return self.no_timer(match)
        lines = [f"{spoken_duration(t.seconds_left(now))} left on the {timer_name(t)}"
                 + (", paused" if t.state == "paused" else "") for t in timers]  # fmt: skip
        if len(lines) == 1:
            return Answer(lines[0][0].upper() + lines[0][1:] + ".")
        return Answer(f"You have {len(lines)} timers: " + "; ".join(lines) + ".")

    def timer_cancel(self, match: SkillMatch, now: float) -> Answer:
        timers = self.timers_named(match)
        if not timers:
            return self.no_timer(match)
        if len(timers) > 1:
            return self.which_timer(timers, "Say which one to cancel, or say cancel all timers.")
        return Answer(f"Cancelled the {timer_name(timers[0])}.", self.cancel(timers))

    def timer_add(self, match: SkillMatch, now: float) -> Answer:
        return self.change_length(match, now, float(match.slots["duration"]))

    def timer_subtract(self, match: SkillMatch, now: float) -> Answer:
        return self.change_length(match, now, -float(match.slots["duration"]))

    def change_length(self, match: SkillMatch, now: float, seconds: float) -> Answer:
        """ "Added 5 minutes. 8 minutes left on the pasta timer.", or "Took off 2 minutes.
        ...": the one timer ``match`` names (its duration is the change, not a timer's
        length) made ``seconds`` longer or shorter, paused or not. Never all it has left:
        that is cancelling it, or letting it ring."""
        timers = self.timers_named(match, by_length=False)
        if not timers:
            return self.no_timer(match, by_length=False)
        if len(timers) > 1:
            action = "add it to" if seconds > 0 else "take it off"
            return self.which_timer(timers, f"Say which one to {action}.")
        timer = timers[0]
        before = timer.seconds_left(now)
        left = before + seconds
        if seconds < 0 and left <= 0:
            return refuse(f"The {timer_name(timer)} has only {spoken_duration(before)} left. "
                          "Say cancel the timer to stop it.")  # fmt: skip
        problem = self.check_length(left) if seconds > 0 else None
        if problem:
            return refuse(problem)
        paused_left = None if timer.paused_left is None else timer.paused_left + seconds
        # A timer named by its length keeps that name: the user still calls it "the 5 minute
        # timer" after adding 2 minutes, and would not know a "7 minute timer".
        label = timer.label or length_name(timer.length)
        changed = replace(timer, due_at=timer.due_at + seconds, length=timer.length + seconds,
                          paused_left=paused_left, label=label)  # fmt: skip
        self.items[timer.item_id] = changed
        done = "Added" if seconds > 0 else "Took off"
        return Answer(f"{done} {spoken_duration(abs(seconds))}. {spoken_duration(left)} left on "
                      f"the {timer_name(changed)}.", [changed])  # fmt: skip

    def timer_pause(self, match: SkillMatch, now: float) -> Answer:
        """ "Paused the pasta timer with 4 minutes left.": it holds its time left (durable:
        a restart keeps it paused) until resumed, and does not ring. With no timer at all,
        "pause it" (or "the timer") is the running stopwatch, if one is."""
        timers = self.timers_named(match)
        running = [t for t in timers if t.state == "pending"]
        if not self.pending("timer") and not match.slots and self.stopwatch.running:
            return self.stopwatch_answer(replace(match, intent="stopwatch.stop"), now)
        if not timers:
            return self.no_timer(match)
        if not running:
            return Answer(f"The {timer_name(timers[0])} is already paused." if len(timers) == 1
                          else "Your timers are already paused.")  # fmt: skip
        if len(running) > 1:
            return self.which_timer(running, "Say which one to pause.")
        timer = running[0]
        left = max(0.0, timer.due_at - now)
        paused = replace(timer, state="paused", paused_left=left)
        self.items[timer.item_id] = paused
        return Answer(f"Paused the {timer_name(timer)} with {spoken_duration(left)} left.",
                      [paused])  # fmt: skip

    def timer_resume(self, match: SkillMatch, now: float) -> Answer:
        """ "Resumed the pasta timer: 4 minutes left.": a paused timer counts down again; with
        no timer at all, a stopped stopwatch counts on."""
        timers = self.timers_named(match)
        paused = [t for t in timers if t.state == "paused"]
        if not self.pending("timer") and not match.slots and self.stopwatch.counted:
            return self.stopwatch_answer(replace(match, intent="stopwatch.resume"), now)
        if not paused:
            named = f"The {timer_name(timers[0])} isn't" if len(timers) == 1 else "No timer is"
            return Answer(f"{named} paused.") if timers else self.no_timer(match)
        if len(paused) > 1:
            return self.which_timer(paused, "Say which one to resume.")
        timer = paused[0]
        left = timer.seconds_left(now)
        resumed = replace(timer, state="pending", due_at=now + left, paused_left=None)
        self.items[timer.item_id] = resumed
        return Answer(f"Resumed the {timer_name(timer)}: {spoken_duration(left)} left.",
                      [resumed])  # fmt: skip

    # -- alarms and reminders -----------------------------------------------------------------

    def snooze(self, match: SkillMatch, now: float, ringing: SkillItem | None) -> Answer:
        """ "Snoozed for 9 minutes.": the ``ringing`` alarm (the skills actor knows which
        rings where it was asked) set again, ``[skills] snooze`` or the length said ahead,
        in its room; the ringing itself ends as for "stop"."""
        if ringing is None:
            return refuse("There's no alarm ringing to snooze.")
        seconds = float(match.slots.get("duration", self.settings.snooze))
        if "minutes" in match.slots:  # "give me 5 more minutes"
            seconds = float(match.slots["minutes"]) * 60
        problem = self.check_length(seconds, "snooze")  # as a timer's: 1 s to max_timer
        if problem:
            return refuse(problem)
        item = SkillItem(kind="alarm", label=ringing.label, due_at=now + seconds,
                         room=ringing.room)  # fmt: skip
        self.items[item.item_id] = item
        return Answer(f"Snoozed for {spoken_duration(seconds)}.", [item], stop=True)

    def check_ahead(self, due: float, now: float) -> str | None:
        if due <= now:
            return "Sorry, that time has already passed."
        if due - now > self.settings.max_ahead_days * 86400:
            return f"Sorry, I can only plan {self.settings.max_ahead_days} days ahead."
        return None

    def first_time(
        self, clock: ClockTime, repeat: str, now: float, morning: bool
    ) -> tuple[float, SkillRepeat]:
        """The first time something said to repeat ("every weekday", "every morning") comes
        at ``clock``, and its rule ("every week": the weekday of that first time)."""
        said, part = day_and_part(repeat)
        hours = hours_meant(clock, part, morning, on_a_day=True, early_afternoon=False)
        today = self.today(now)
        for ahead in range(63):  # a monthly rule's day may be two months off (the 31st)
            day = today + dt.timedelta(days=ahead)
            # The slot's words are a rule (words.parse_repeat), "weekly" becomes a weekday.
            rule = cast(SkillRepeat, WEEKDAYS[day.weekday()] if said == "weekly" else said)
            times = [self.at(day, hour, clock.minute) for hour in hours]
            if repeats_on(rule, day) and (coming := [t for t in times if t > now]):
                return min(coming), rule
        raise AssertionError(f"{repeat} comes on no day of two months")  # each rule does

    def next_time(self, item: SkillItem, now: float) -> float:
        """When a repeating ``item`` comes next after ``now``: its time of day, on the next
        day its rule allows (a day missed while Solo was down is not made up)."""
        assert item.repeats is not None
        due = self.local(item.due_at)
        day = max(due.date(), self.today(now) - dt.timedelta(days=1))
        while True:
            day += dt.timedelta(days=1)
            at = self.at(day, due.hour, due.minute, due.second)
            if repeats_on(item.repeats, day) and at > now:
                return at

    def next_occurrence(self, fired: SkillItem, now: float) -> list[SkillItem]:
        """The pending item that follows a repeating one just fired (none for one that comes
        once): a new item, so the fired one stays as history."""
        if fired.repeats is None:
            return []
        following = SkillItem(kind=fired.kind, label=fired.label, room=fired.room,
                              due_at=self.next_time(fired, now), repeats=fired.repeats)  # fmt: skip
        self.items[following.item_id] = following
        return [following]

    def alarm_set(self, match: SkillMatch, now: float) -> Answer:
        repeats: SkillRepeat | None = None
        if "duration" in match.slots:  # "wake me up in 20 minutes"
            due = now + float(match.slots["duration"])
        elif "repeat" in match.slots:  # "an alarm for 6:30 every weekday": 6:30 am
            due, repeats = self.first_time(match.slots["time"], match.slots["repeat"], now, True)
        else:
            day = match.slots.get("day")
            # An alarm on a named day wakes someone: "an alarm for 6:30 tomorrow" is 6:30 am,
            # as "an alarm for 6:30" said in the evening is (a reminder's "friday at 5" is pm).
            due = self.when(match.slots["time"], day, now, match.morning or day is not None)
        problem = self.check_ahead(due, now)
        if problem:
            return refuse(problem)
        name = name_key(match.slots.get("name", ""))
        item = SkillItem(kind="alarm", label=name or spoken_clock(self.local(due)), due_at=due,
                         repeats=repeats)  # fmt: skip
        said = f"{name.capitalize()} alarm" if name else "Alarm"
        return Answer(f"{said} set for {self.spoken_set(item, now)}.", self.add(item))

    def year_then(self, match: SkillMatch, now: float) -> Answer:
        """ "25 years ago it was 2001." (``time.year_ago``), "In 10 years it will be 2036."."""
        ago = match.intent == "time.year_ago"
        return said_or_sorry(lambda: year_apart(match.slots["years"], self.today(now), ago=ago))

    def next_moon(self, match: SkillMatch, now: float) -> Answer:
        """ "The next full moon is at 1:29 AM Thursday, December 24, in 17 days."."""
        phase: Phase = "full" if match.intent == "moon.next_full" else "new"
        at = next_phase(phase, now)
        days = (self.local(at).date() - self.today(now)).days
        later = f", in {plural(days, 'day')}" if days > 1 else ""
        return Answer(f"The next {phase} moon is at {self.spoken_when(at, now)}{later}.")

    def moon_phase(self, _match: SkillMatch, now: float) -> Answer:
        """ "The moon is a waning crescent. The next new moon is at 12:52 AM Wednesday, ..."."""
        full, new = next_phase("full", now), next_phase("new", now)
        phase, at = ("full", full) if full < new else ("new", new)
        return Answer(f"The moon is {phase_name(now)}. The next {phase} moon is at "
                      f"{self.spoken_when(at, now)}.")  # fmt: skip

    def zone_said(self, match: SkillMatch, slot: str = "place") -> tuple[dt.tzinfo | None, str]:
        """The zone of the place said in ``slot``, and its name; else Solo's own, named by its
        city ("" when it names none)."""
        place: Place | None = match.slots.get(slot)
        if place is None:
            return self.zone, self.home_city
        return zoneinfo.ZoneInfo(place.zone), place.name

    def time_zone(self, match: SkillMatch, now: float) -> Answer:
        """ "Your time zone is Europe/London: GMT, UTC+0.", "India is on Asia/Kolkata time:
        IST, UTC+5:30."."""
        place: Place | None = match.slots.get("place")
        if place is not None:
            return Answer(f"{place.name} is on {place.zone} time: {clock_label(place.zone, now)}.")
        zone = self.settings.timezone or system_zone()
        if not zone:
            return Answer("I can't tell this computer's time zone. Set skills.timezone in "
                          "Solo's config, for example 'Europe/London'.")  # fmt: skip
        return Answer(f"Your time zone is {zone}: {clock_label(zone, now)}.")

    def time_difference(self, match: SkillMatch, now: float) -> Answer:
        """ "Tokyo is 9 hours ahead of London.", "New York is 5 hours behind you."."""
        zone, name = self.zone_said(match)
        other_zone, other = self.zone_said(match, "other")
        other = other or "you"
        apart = offset_at(zone, now) - offset_at(other_zone, now)
        if not apart:
            return Answer(f"{name} is on the same time as {other}.")
        side = "ahead of" if apart > 0 else "behind"
        return Answer(f"{name} is {spoken_duration(abs(apart))} {side} {other}.")

    def daylight_saving(self, match: SkillMatch, now: float) -> Answer:
        """ "No, London is on standard time now. The clocks go forward ... on Sunday, March
        28, 2027.", "Tokyo does not change its clocks."."""
        zone, name = self.zone_said(match)
        change = next_clock_change(zone, now)
        name = name or "your time zone"
        if change is None:
            return Answer(f"No, {name} does not change its clocks.")
        if offset_at(zone, change) < offset_at(zone, now):  # they go back next
            said = f"Yes, {name} is on daylight saving time now."
        else:
            said = f"No, {name} is on standard time now."
        return Answer(f"{said} The clocks go {self.clocks_move(zone, change, now)}.")

    def clock_change(self, match: SkillMatch, now: float) -> Answer:
        """ "In London, the clocks go forward an hour at 1:00 AM on Sunday, March 28, 2027,
        and back an hour at 2:00 AM on Sunday, October 31, 2027."."""
        zone, name = self.zone_said(match)
        change = next_clock_change(zone, now)
        if change is None:
            return Answer(f"{name or 'Your time zone'} does not change its clocks.")
        moves = self.clocks_move(zone, change, now)
        if (after := next_clock_change(zone, change)) is not None:
            moves += f", and {self.clocks_move(zone, after, now)}"
        return Answer(f"In {name}, the clocks go {moves}." if name else f"The clocks go {moves}.")

    def clocks_move(self, zone: dt.tzinfo | None, at: float, now: float) -> str:
        """ "forward an hour at 1:00 AM on Sunday, March 28, 2027": the change at ``at``, at
        the clock's time as it changes."""
        before, after = offset_at(zone, at - 1), offset_at(zone, at)
        wall = dt.datetime.fromtimestamp(at, dt.UTC).replace(tzinfo=None)
        wall += dt.timedelta(seconds=before)
        shift = abs(after - before)
        by = "an hour" if shift == 3600 else spoken_duration(shift)
        year = f", {wall.year}" if wall.year != self.today(now).year else ""
        way = "forward" if after > before else "back"
        return f"{way} {by} at {spoken_clock(wall)} on {spoken_date(wall.date())}{year}"

    def distance(self, match: SkillMatch, now: float) -> Answer:
        """How far a city is from another, or from where the user is (`distance.py`)."""
        return said_or_sorry(
            lambda: self.distance_to(match.slots["place"], match.slots.get("other"))
        )

    def distance_to(self, place: Place, other: Place | None) -> str:
        """How far ``place`` is from ``other``, or from the user's location when None; a
        `ValueError` saying why for a place that can't be measured from or to."""
        where = city_location(place)
        if other is not None:
            return distance_said(place.name, where, other.name, city_location(other))
        if self.location is None:
            raise ValueError(NOWHERE_TO_MEASURE_FROM)
        return distance_said(place.name, where, self.location.city or "you", self.location)

    def season(self, match: SkillMatch, now: float) -> Answer:
        """ "It's autumn: winter begins at the December solstice, on Monday, December 21, in
        14 days.", "Spring begins at the March equinox, ...", "The longest day is the June
        solstice, ...": astronomical seasons, in the user's hemisphere (`sun.season_start`)."""
        if self.location is None:
            return refuse(NOWHERE)
        southern = self.location.latitude < 0
        if match.intent == "sun.season":
            season = season_now(southern, now)
            in_turn = list(SEASON_STARTS)
            following = in_turn[(in_turn.index(season) + 1) % len(in_turn)]
            mark, when = self.season_when(following, southern, now)
            return Answer(f"It's {season}: {following} begins at {mark}, {when}.")
        if match.intent in LONGEST_DAYS:
            kind, season = LONGEST_DAYS[match.intent]
            mark, when = self.season_when(season, southern, now)
            return Answer(f"The {kind} day is {mark}, {when}.")
        season = str(match.slots["season"])
        mark, when = self.season_when(season, southern, now)
        return Answer(f"{season.capitalize()} begins at {mark}, {when}.")

    def season_when(self, season: str, southern: bool, now: float) -> tuple[str, str]:
        """The equinox or solstice that next begins ``season``, and when: "on Monday,
        December 21, in 14 days" (its date in Solo's zone)."""
        start, mark = season_start(season, southern, now)
        date, today = self.local(start).date(), self.today(now)
        year = f", {date.year}" if date.year != today.year else ""
        days = (date - today).days
        away = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
        return mark, f"on {spoken_date(date)}{year}, {away}"

    def sun(self, match: SkillMatch, now: float) -> Answer:
        """Sunrise, sunset or daylight (solo_actors/skills/sun.py): where the user is, or in
        the place said, in its own time."""
        place: Place | None = match.slots.get("place")
        zone: zoneinfo.ZoneInfo | None = self.zone
        location = self.location
        if place is not None:
            location, zone = zone_location(place.zone), zoneinfo.ZoneInfo(place.zone)
        if location is None:
            return refuse(NOWHERE)
        today = dt.datetime.fromtimestamp(now, zone).date()
        date = today
        if "day" in match.slots:
            day = day_and_part(match.slots["day"])[0]
            # "Tomorrow" in Tokyo is the day after Tokyo's today; "Friday" is Friday anywhere.
            date = (today + dt.timedelta(days=RELATIVE_DAYS[day]) if day in RELATIVE_DAYS
                    else self.day_of(day, now))  # fmt: skip
        asked = cast(SunAsked, match.intent.removeprefix("sun."))
        return Answer(sun_answer(asked, location, zone, date, now, in_place=place is not None))

    def spoken_day(self, due: float, now: float) -> str:
        """ "today", "tomorrow", "Friday, June 5", or "Friday, May 28, 2027" in another year
        (a date said for one that has passed this year)."""
        date, today = self.local(due).date(), self.today(now)
        days = (date - today).days
        if days in (0, 1):
            return "today" if days == 0 else "tomorrow"
        return spoken_date(date) + (f", {date.year}" if date.year != today.year else "")

    def spoken_when(self, due: float, now: float) -> str:
        return f"{spoken_clock(self.local(due))} {self.spoken_day(due, now)}"

    def spoken_listed(self, item: SkillItem, now: float) -> str:
        """When a pending alarm or reminder comes: "6:30 AM tomorrow", or for one that
        repeats "6:30 AM on weekdays"."""
        if item.repeats is None:
            return self.spoken_when(item.due_at, now)
        return f"{spoken_clock(self.local(item.due_at))} {spoken_repeat(item.repeats)}"

    def spoken_set(self, item: SkillItem, now: float) -> str:
        """When a new alarm or reminder comes: as listed, and for one that repeats, from
        when ("6:30 AM on weekdays, from tomorrow")."""
        said = self.spoken_listed(item, now)
        return said if item.repeats is None else f"{said}, from {self.spoken_day(item.due_at, now)}"

    def reminder_set(self, match: SkillMatch, now: float) -> Answer:
        slots = match.slots
        repeats: SkillRepeat | None = None
        if "task" not in slots or not {"duration", "time", "day", "repeat"} & slots.keys():
            # The shipped sentences without either ask for it (reminder.ask_*); a user's own
            # reminder.set sentence may still lack one.
            return refuse("Sorry, a reminder needs what and when. Say, for example: remind me "
                          "to call my sister at 6 pm, or in 20 minutes.")  # fmt: skip
        if "duration" in slots:
            seconds = float(slots["duration"])
            if seconds < 1:
                return refuse("Sorry, a reminder must be at least a second away.")
            due = now + seconds
        elif "repeat" in slots:  # "every day at 8", "every evening"
            clock = slots.get("time") or self.open_clock(slots["repeat"])
            due, repeats = self.first_time(clock, slots["repeat"], now, match.morning)
        elif "time" in slots:
            due = self.when(slots["time"], slots.get("day"), now, match.morning,
                            early_afternoon=True)  # fmt: skip
        else:
            due = self.when(self.open_clock(slots["day"]), slots["day"], now, False)
        problem = self.check_ahead(due, now)
        if problem:
            return refuse(problem)
        task = match.said.get("task", str(slots["task"]))  # kept as cased: "call Mum"
        item = SkillItem(kind="reminder", label=task, due_at=due, repeats=repeats)
        said = (
            f"in {spoken_duration(due - now)}"
            if "duration" in slots
            else f"at {self.spoken_set(item, now)}"
        )
        return Answer(f"I'll remind you {reminded(task)} {said}.", self.add(item))

    def open_clock(self, day: str) -> ClockTime:
        """The time of a reminder said with a day and no time: its part of the day's hour
        ("tomorrow evening": 19:00, "tonight": 21:00), else ``reminder_hour``."""
        hour = PART_HOURS.get(day.split()[-1], self.settings.reminder_hour)
        return ClockTime(hour, 0)

    def reminder_repeat(self, match: SkillMatch, now: float) -> Answer:
        """A reminder asked to repeat in a way none does ("every hour", "every other day"):
        refused, not set once as if it repeated."""
        return refuse("Sorry, a reminder can repeat every day, on weekdays, at weekends, "
                      "on one day each week or on one day each month, at one time of day. "
                      "Say, for example: remind me to take my pills every day at 8, or to "
                      "pay the rent on the 1st of every month.")  # fmt: skip

    def listing(self, match: SkillMatch, now: float) -> Answer:
        """The pending alarms or reminders (``schedule.day``: both), on the day said if one
        was ("do I have any reminders for tomorrow", "what do I have on friday")."""
        kinds: tuple[SkillKind, ...] = (
            ("alarm",) if match.intent.startswith("alarm")
            else ("reminder",) if match.intent.startswith("reminder")
            else ("alarm", "reminder")
        )  # fmt: skip
        items = [i for i in self.pending() if i.kind in kinds]
        what = " or ".join(f"{kind}s" for kind in kinds)
        on = ""
        if "day" in match.slots:
            date = self.day_of(match.slots["day"], now)
            items = [i for i in items if self.local(i.due_at).date() == date]
            said_day = self.spoken_day(self.at(date, 12, 0), now)
            on = f" {said_day}" if said_day in ("today", "tomorrow") else f" on {said_day}"
        if not items:
            return Answer(f"You have no {what}{on}.")
        said = "; ".join(self.listed(i, now, named=len(kinds) > 1, dated=bool(on)) for i in items)
        if len(kinds) > 1:  # "Tomorrow you have an alarm at 7:00 AM; a reminder to ..."
            return Answer(
                f"{on.strip().capitalize()} you have {said}." if on else f"You have {said}."
            )
        plural = kinds[0] + ("s" if len(items) > 1 else "")
        return Answer(f"You have {len(items)} {plural}{on}: {said}.")

    def week_listing(self, _match: SkillMatch, now: float) -> Answer:
        """ "This week you have an alarm at 6:30 AM tomorrow; a reminder to call Mum at 9:00
        AM Friday, December 11.": the alarms and reminders of today and the next six days."""
        end = self.at(self.today(now) + dt.timedelta(days=7), 0, 0)
        items = [i for i in self.pending() if i.kind != "timer" and i.due_at < end]
        if not items:
            return Answer("You have no alarms or reminders this week.")
        said = "; ".join(self.listed(i, now, named=True, dated=False) for i in items)
        return Answer(f"This week you have {said}.")

    def listed(self, item: SkillItem, now: float, *, named: bool, dated: bool) -> str:
        """A pending item in a list: "call your sister at 9:00 AM tomorrow", "6:30 AM on
        weekdays"; ``named``: "a reminder to call ...", "an alarm at ..." (a list of both);
        ``dated``: the list said the day once, so only the time."""
        when = spoken_clock(self.local(item.due_at)) if dated else self.spoken_listed(item, now)
        if item.kind == "reminder":
            task = reminded(item.label) if named else in_your_words(item.label)
            return f"{'a reminder ' if named else ''}{task} at {when}"
        name = alarm_name(item)
        if named:
            return f"an alarm called {name} at {when}" if name else f"an alarm at {when}"
        return f"{when}, called {name}" if name else when

    def alarms_at(self, clock: ClockTime | None) -> list[SkillItem]:
        """The pending alarms, soonest first; those at ``clock`` when one was said ("the 7
        alarm": 7 am or 7 pm)."""
        alarms = self.pending("alarm")
        if clock is None:
            return alarms
        cycle = 24 if clock.meridiem else 12
        return [a for a in alarms if (moment := self.local(a.due_at)).minute == clock.minute
                and moment.hour % cycle == clock.hour % cycle]  # fmt: skip

    def alarm_change(self, match: SkillMatch, now: float) -> Answer:
        """ "Move my alarm to 7:30": the next alarm (or the one at ``old``) at the new time,
        on its own day or the day said; an hour said without am/pm stays in the half of the
        day the alarm was in; one that repeats keeps its days. With several alarms the
        answer names the one moved."""
        old_clock = match.slots.get("old")
        alarms = self.alarms_at(old_clock)
        if key := name_key(match.slots.get("name", "")):  # "move the gym alarm to 7:30"
            alarms = alarms_called(alarms, key)
        if not alarms:
            return Answer("There is no such alarm to change." if old_clock or key else
                          "You have no alarms to change.")  # fmt: skip
        old, clock = alarms[0], match.slots["time"]
        hour = clock.hour
        if not clock.meridiem:
            hour = clock.hour % 12 + (12 if self.local(old.due_at).hour >= 12 else 0)
        clock = ClockTime(hour, clock.minute)
        if old.repeats is not None:
            due, repeats = self.first_time(clock, old.repeats, now, morning=True)
        else:
            day = self.local(old.due_at).date()
            if "day" in match.slots:
                day = self.day_of(match.slots["day"], now)
            due, repeats = self.at(day, clock.hour, clock.minute), None
        problem = self.check_ahead(due, now)
        if problem:
            return refuse(problem)
        item_clock = spoken_clock(self.local(due))
        label = alarm_name(old) or item_clock
        item = SkillItem(kind="alarm", label=label, due_at=due, room=old.room, repeats=repeats)
        self.items[item.item_id] = item
        # With others pending, say which one moved: "my alarm" was taken to be the next.
        moved = (f"{label.capitalize()} alarm" if label != item_clock
                 else f"The alarm for {self.spoken_listed(old, now)}" if len(alarms) > 1
                 else "Alarm")  # fmt: skip
        return Answer(f"{moved} moved to {self.spoken_set(item, now)}.",
                      [*self.cancel([old]), item])  # fmt: skip

    def alarm_cancel(self, match: SkillMatch, now: float) -> Answer:
        if name_key(match.slots.get("name", "")):  # "cancel the gym alarm"
            return self.named_alarm_cancel(match, now)
        clock = match.slots.get("time")
        alarms = self.alarms_at(clock)
        if "day" in match.slots:  # "turn off my alarm tomorrow": that day's only
            return self.alarm_off_on(alarms, self.day_of(match.slots["day"], now), now)
        if not alarms:
            return Answer("There is no such alarm to cancel.")
        if len(alarms) > 1 and clock is None:
            alarms = alarms[:1]  # "cancel my alarm": the next one
        said = "; ".join(self.spoken_listed(a, now) for a in alarms)
        return Answer(f"Cancelled the alarm for {said}.", self.cancel(alarms))

    def named_alarm_cancel(self, match: SkillMatch, now: float) -> Answer:
        """ "Cancelled the gym alarm for 7:00 AM tomorrow.", or the alarms there are when
        none has that name: a name may be stt's mishearing."""
        key = name_key(match.slots["name"])
        alarms = self.pending("alarm")
        named = alarms_called(alarms, key)
        if named:
            said = "; ".join(self.spoken_listed(a, now) for a in named)
            return Answer(f"Cancelled the {key} alarm for {said}.", self.cancel(named))
        missing = f"You have no alarm called {match.said.get('name', key)}"
        if not alarms:
            return Answer(f"{missing}.")
        listed = "; ".join(self.listed(a, now, named=False, dated=False) for a in alarms)
        return Answer(f"{missing}. Your alarms: {listed}.")

    def alarm_off_on(self, alarms: list[SkillItem], day: dt.date, now: float) -> Answer:
        """ "Turn off my alarm tomorrow": that day's alarms of ``alarms``. One that comes once
        is cancelled; one that repeats skips that day and keeps its days after (it was
        cancelled for good). A repeating one that comes that day only after another time
        first cannot skip it: only its next time moves."""
        on_day = [a for a in alarms if self.local(a.due_at).date() == day]
        if not on_day:
            later = [a for a in alarms if a.repeats is not None and repeats_on(a.repeats, day)
                     and self.local(a.due_at).date() < day]  # fmt: skip
            if later:
                first = later[0]
                return Answer(f"Your alarm at {self.spoken_listed(first, now)} rings next at "
                              f"{self.spoken_when(first.due_at, now)}: I can skip only its next "
                              "time.")  # fmt: skip
            return Answer("There is no such alarm to cancel.")
        once = [a for a in on_day if a.repeats is None]
        repeating = [a for a in on_day if a.repeats is not None]
        skipped = [replace(a, due_at=self.next_time(a, a.due_at)) for a in repeating]
        for alarm in skipped:
            self.items[alarm.item_id] = alarm
        said = []
        if once:
            said.append("Cancelled the alarm for "
                        + "; ".join(self.spoken_listed(a, now) for a in once) + ".")  # fmt: skip
        for before, after in zip(repeating, skipped, strict=True):
            said.append(f"Skipped the alarm at {self.spoken_when(before.due_at, now)}; it rings "
                        f"next at {self.spoken_when(after.due_at, now)}.")  # fmt: skip
        return Answer(" ".join(said), [*self.cancel(once), *skipped])

    def reminders_about(self, task: str | None) -> list[SkillItem]:
        """The pending reminders, soonest first; those whose task has ``task`` in it (or is
        in it) when one was said."""
        reminders = self.pending("reminder")
        if not task:
            return reminders
        return [r for r in reminders if task in (label := normalise(r.label)) or label in task]

    def reminder_when(self, match: SkillMatch, now: float) -> Answer:
        """ "when is my reminder to check the oven" (and "what time will that be" right after
        setting it): "I'll remind you to check the oven at 5:21 PM today, in 1 hour."; no
        task said: the next reminder."""
        task = match.slots.get("task")
        reminders = self.reminders_about(task)
        if not reminders:
            return Answer(
                f"You have no reminder {reminded(task)}." if task else "You have no reminders."
            )
        item = reminders[0]
        away = spoken_duration(to_the_minute(item.due_at - now))
        return Answer(f"I'll remind you {reminded(item.label)} at "
                      f"{self.spoken_listed(item, now)}, in {away}.")  # fmt: skip

    def reminder_cancel(self, match: SkillMatch, now: float) -> Answer:
        reminders = self.reminders_about(match.slots.get("task"))
        if not reminders:
            return Answer("There is no such reminder to cancel.")
        if len(reminders) > 1:
            return Answer(f"You have {len(reminders)} reminders. Say which one, for example: "
                          f"cancel the reminder to {reminders[0].label}.")  # fmt: skip
        return Answer(f"Cancelled the reminder {reminded(reminders[0].label)}.",
                      self.cancel(reminders))  # fmt: skip

    def cancel_all(self, match: SkillMatch, now: float) -> Answer:
        kind: SkillKind = match.intent.split(".")[0]  # type: ignore[assignment]
        items = self.pending(kind)
        if not items:
            return Answer(f"You have no {kind}s.")
        return Answer(f"Cancelled {len(items)} {kind}{'s' if len(items) > 1 else ''}.",
                      self.cancel(items))  # fmt: skip

    # -- chance -----------------------------------------------------------------------------

    def dice(self, match: SkillMatch, now: float) -> Answer:
        count, sides = match.slots.get("count", 1.0), match.slots.get("sides", 6.0)
        if count != int(count) or sides != int(sides):
            return refuse("Sorry, dice come in whole numbers.")
        return said_or_sorry(lambda: rolled(self.chance, int(count), int(sides)))

    def stopwatch_answer(self, match: SkillMatch, now: float) -> Answer:
        return Answer(self.stopwatch.answer(match.intent, now))

    def joke(self, match: SkillMatch, now: float) -> Answer:
        return said_or_sorry(lambda: told_joke(self.chance, self.matcher.jokes, self.jokes_told))

    def number(self, match: SkillMatch, now: float) -> Answer:
        return said_or_sorry(lambda: picked(self.chance, match.slots["low"], match.slots["high"]))

    # -- numbers ----------------------------------------------------------------------------

    def calculate(self, match: SkillMatch, now: float) -> Answer:
        return Answer(f"It's {spoken_number(float(match.slots['expr']))}.")

    def binary(self, match: SkillMatch, now: float) -> Answer:
        """ "divide 100 by 4": the intent names the operation."""
        try:
            value = apply(BINARY_INTENTS[match.intent], match.slots["a"], match.slots["b"])
        except SlotError as error:
            return refuse(f"Sorry, {error}.")
        return Answer(f"It's {spoken_number(value)}.")

    def convert(self, match: SkillMatch, now: float) -> Answer:
        value = float(match.slots.get("value", 1.0))
        units = self.matcher.units
        said_from, said_to = self.same_dimension(match.slots["from"], match.slots["to"])
        source, target = units[said_from], units[said_to]
        if source.dimension != target.dimension:
            return refuse(f"Sorry, I can't convert {source.dimension} to {target.dimension}.")
        result = ((value * source.factor + source.offset) - target.offset) / target.factor
        said = f"{spoken_number(value)} {unit_said(said_from, source, value)}"
        return Answer(f"{said} is {self.amount_said(said_to, result)}.")

    def convert_compound(self, match: SkillMatch, now: float) -> Answer:
        """ "6 feet 2 inches is 188 centimetres.": an amount said in a unit and its `then`."""
        units = self.matcher.units
        larger, target = units[match.slots["from"]], units[match.slots["to"]]
        smaller_key = match.slots.get("then") or larger.then
        smaller = units.get(smaller_key) if smaller_key else None
        value, more = float(match.slots["value"]), float(match.slots["more"])
        if smaller is None:
            return refuse(f"Sorry, say the unit of the {spoken_number(more)} too.")
        if not larger.dimension == smaller.dimension == target.dimension:
            return refuse(f"Sorry, I can't convert {larger.dimension} to {target.dimension}.")
        base = value * larger.factor + more * smaller.factor  # no offsets: lengths and weights
        said = (f"{spoken_number(value)} {unit_said(match.slots['from'], larger, value)} "
                f"{spoken_number(more)} {unit_said(smaller_key, smaller, more)}")  # fmt: skip
        amount = (base - target.offset) / target.factor
        return Answer(f"{said} is {self.amount_said(match.slots['to'], amount)}.")

    def amount_said(self, key: str, amount: float) -> str:
        """ "182.9 centimetres" (four significant figures); in a unit said with its `then`,
        "about 5 feet 11 inches" (the smaller unit to the nearest whole one)."""
        unit = self.matcher.units[key]
        smaller = self.matcher.units.get(unit.then) if unit.said_with_then else None
        if smaller is None or amount < 1 or amount == int(amount):
            rounded = float(f"{amount:.4g}")
            return f"{spoken_number(rounded)} {unit_said(key, unit, rounded)}"
        per = round(unit.factor / smaller.factor)  # 12 inches to the foot, 14 pounds to a stone
        whole, rest = divmod(round(amount * per), per)
        said = f"{whole} {unit_said(key, unit, whole)}"
        if rest:
            said += f" {rest} {unit_said(unit.then, smaller, rest)}"
        return said if abs(amount * per - round(amount * per)) < 0.01 else f"about {said}"

    def same_dimension(self, source: str, target: str) -> tuple[str, str]:
        """The units ``source`` and ``target`` mean together: as said, unless they measure
        different things and one has an `Unit.otherwise` that measures what the other does
        ("ounces in a cup": fluid ounces)."""
        units = self.matcher.units
        if units[source].dimension == units[target].dimension:
            return source, target
        if (other := units[source].otherwise) and units[other].dimension == units[target].dimension:
            return other, target
        if (other := units[target].otherwise) and units[other].dimension == units[source].dimension:
            return source, other
        return source, target

    # -- control ----------------------------------------------------------------------------

    def stop(self, match: SkillMatch, now: float) -> Answer:
        return Answer("Okay.", stop=True)

    def announce(self, match: SkillMatch, now: float) -> Answer:
        message = str(match.slots["message"]).strip().rstrip(".!")
        said = message[:1].upper() + message[1:] + "."
        return Answer("Announced.", announce=said)

    def help(self, match: SkillMatch, now: float) -> Answer:
        """The help intent's set words; every skill when it has none (a user's own file)."""
        overview = self.matcher.set_words(match.intent)
        return Answer(overview) if overview else self.every_skill(match, now)

    def every_skill(self, match: SkillMatch, now: float) -> Answer:
        things = [i.description for i in self.matcher.intents if i.description]
        listed = "; ".join(things[:-1]) + "; and " + things[-1] if len(things) > 1 else things[0]
        return Answer(f"I can {listed}. Anything else goes to my language model, which runs "
                      "offline: it can't look up the weather, news or the web.")  # fmt: skip
