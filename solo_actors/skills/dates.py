"""The calendar questions the model cannot answer, because it knows no date: how many days
(or weeks) until a day or since one, how many years since a year or how old someone born in
it is, leap years, the days in a month, the week number and the day of the year, for the
``time.until``, ``time.weeks_until``, ``time.this_year``, ``time.since``,
``time.years_since``, ``time.age``, ``time.leap_year``, ``time.next_leap_year``,
``time.days_in_month``, ``time.month_end``, ``time.week``, ``time.day_of_year``, ``time.weekend``,
``time.weekdays_until``, ``time.weekdays_left_year``, ``time.weekdays_left_month``,
``time.weekday_count_year``, ``time.weekday_count_month``, ``time.weeks_left``,
``time.quarter``, ``time.own_age``, ``time.age_in_year``, ``time.days_old`` and
``time.born_weekday`` intents.

Each is a function of today's date in the configured zone, which `builtin.SkillBook` passes
in, so a test fixes the day.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Sequence

from solo_actors.skills.holidays import Holiday, date_in, month_day

FIRST_YEAR, LAST_YEAR = dt.MINYEAR, dt.MAXYEAR
"""The years a leap-year question is answered for: those of Python's calendar."""


def spoken_clock(moment: dt.datetime) -> str:
    """ "7:05 AM" (the hour without a leading zero)."""
    return moment.strftime("%I:%M %p").lstrip("0")


def spoken_date(date: dt.date) -> str:
    """ "Friday, December 25" (the day without a leading zero)."""
    return f"{date:%A, %B} {date.day}"


def until_holiday(holiday: Holiday, today: dt.date, *, in_weeks: bool = False) -> str:
    """ "Christmas is in 211 days, on Friday, December 25.", "December 25 is in 211 days, on
    a Friday.", "... tomorrow, on Friday.", "It's Christmas today."; ``in_weeks`` ("how many
    weeks until"): "... in 2 weeks and 4 days, ..."."""
    date = holiday.next_date(today)
    days = (date - today).days
    if days == 0:
        return f"It's {holiday.name} today."
    if days == 1:
        return f"{holiday.name} is tomorrow, on {date:%A}."
    year = f", {date.year}" if date.year != today.year else ""
    span = weeks_and_days(days) if in_weeks else f"{days} days"
    if holiday.named:  # "Christmas ... on Friday, December 25, 2027."
        return f"{holiday.name} is in {span}, on {spoken_date(date)}{year}."
    return f"{holiday.name}{year}{',' if year else ''} is in {span}, on a {date:%A}."


def holiday_this_year(holiday: Holiday, today: dt.date) -> str:
    """ "Thanksgiving was 11 days ago, on Thursday, November 26." once this year's has
    passed (not next year's, as `until_holiday` would say); else as `until_holiday`."""
    date = date_in(holiday.when, today.year)
    if date is not None and date < today:
        return since_holiday(holiday, today)
    return until_holiday(holiday, today)


def weeks_and_days(days: int) -> str:
    """ "2 weeks and 4 days", "3 weeks", "5 days"."""
    weeks, rest = divmod(days, 7)
    if not weeks:
        return plural(days, "day")
    return plural(weeks, "week") + (f" and {plural(rest, 'day')}" if rest else "")


def since_holiday(holiday: Holiday, today: dt.date) -> str:
    """ "Christmas was 154 days ago, on Thursday, December 25, 2025.", "... yesterday",
    "It's Christmas today."."""
    date = holiday.last_date(today)
    days = (today - date).days
    if days == 0:
        return f"It's {holiday.name} today."
    if days == 1:
        return f"{holiday.name} was yesterday."
    year = f", {date.year}" if date.year != today.year else ""
    if holiday.named:
        return f"{holiday.name} was {days} days ago, on {spoken_date(date)}{year}."
    return f"{holiday.name}{year}{',' if year else ''} was {days} days ago, a {date:%A}."


def days_between(start: Holiday, end: Holiday, today: dt.date) -> str:
    """ "There are 92 days from March 1 to June 1.", the next ``start`` and the first ``end``
    after it ("from Christmas to New Year's Day": 7)."""
    first = start.next_date(today)
    last = end.next_date(first)
    days = (last - first).days
    said = f"There {'is' if days == 1 else 'are'} {plural(days, 'day')} from {start.name} "
    said += f"to {end.name}"
    return f"{said}." if days < 7 else f"{said}: {weeks_and_days(days)}."


def plural(number: int, unit: str) -> str:
    """ "1 day", "13 weeks"."""
    return f"{number} {unit}{'s' if number != 1 else ''}"


def whole_year(year: float) -> int:
    """``year`` as a year the calendar has; `ValueError` saying which it has."""
    if year != int(year) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"I know the years {FIRST_YEAR} to {LAST_YEAR}")
    return int(year)


def years_since(year: float, today: dt.date) -> str:
    """ "1990 was 36 years ago.", "2030 is in 4 years.", "2026 is this year."."""
    whole = whole_year(year)
    years = today.year - whole
    if years == 0:
        return f"{whole} is this year."
    if years < 0:
        return f"{whole} is in {plural(-years, 'year')}."
    return f"{whole} was {plural(years, 'year')} ago."


def weekday_in_year(holiday: Holiday, year: float, today: dt.date) -> str:
    """ "July 4, 1976 was a Sunday.", "Christmas 2030 will be on a Wednesday, December 25.",
    "February 29 is not a day of 2027."; `ValueError` for a year the calendar has not."""
    whole = whole_year(year)
    date = date_in(holiday.when, whole)
    if date is None:
        return f"{holiday.name} is not a day of {whole}."
    verb = "is" if date == today else "was" if date < today else "will be"
    if holiday.named:
        return f"{holiday.name} {whole} {verb} on a {date:%A}, {date:%B} {date.day}."
    return f"{holiday.name}, {whole} {verb} a {date:%A}."


def year_apart(years: float, today: dt.date, *, ago: bool) -> str:
    """ "25 years ago it was 2001.", "In 10 years it will be 2036."."""
    if years != int(years) or years < 0:
        raise ValueError("say a whole number of years")
    whole = whole_year(today.year - years if ago else today.year + years)
    said = plural(int(years), "year")
    return f"{said} ago it was {whole}." if ago else f"In {said} it will be {whole}."


def age_born_in(year: float, today: dt.date) -> str:
    """ "Someone born in 1990 turns 36 this year: 35 until their birthday, 36 after it."."""
    whole = whole_year(year)
    age = today.year - whole
    if age < 0:
        raise ValueError(f"{whole} hasn't come yet")
    if age == 0:
        return f"Someone born in {whole} is less than a year old."
    return (f"Someone born in {whole} turns {age} this year: {age - 1} until their birthday, "
            f"{age} after it.")  # fmt: skip


def own_age(year: int, birthday: Holiday | None, today: dt.date) -> str:
    """ "You're 36, and turn 37 on Wednesday, March 3, 2027, in 86 days." (born on
    ``birthday`` in ``year``); without the day, "You turn 36 this year: ..."; a `ValueError`
    for a year to come."""
    turning = today.year - year
    if turning < 0:
        raise ValueError(f"{year} hasn't come yet")
    if birthday is None:
        if turning == 0:
            return "You were born this year."
        return (f"You turn {turning} this year: you're {turning - 1} until your birthday, "
                f"and {turning} after it. Tell me your birthday and I can say which.")  # fmt: skip
    month, day = month_day(birthday.when)
    age = turning if (today.month, today.day) >= (month, day) else turning - 1
    if age < 0:
        raise ValueError(f"{birthday.name}, {year} hasn't come yet")
    if (today.month, today.day) == (month, day):
        return f"You're {age} today. Happy birthday!"
    next_one = birthday.next_date(today)
    year_said = f", {next_one.year}" if next_one.year != today.year else ""
    return (f"You're {age}, and turn {age + 1} on {spoken_date(next_one)}{year_said}, in "
            f"{plural((next_one - today).days, 'day')}.")  # fmt: skip


def age_in_year(born: int, year: float, birthday: Holiday | None, today: dt.date) -> str:
    """ "You turn 40 in 2030, on March 3." (born in ``born``, on ``birthday`` when told); a
    `ValueError` for a year before the user was born."""
    asked = whole_year(year)
    if asked < born:
        raise ValueError(f"you were born in {born}, after {asked}")
    age = asked - born
    verb = "turned" if asked < today.year else "turn"
    if age == 0:
        return f"You were born in {asked}."
    on = f", on {birthday.name}" if birthday is not None else ""
    return f"You {verb} {age} in {asked}{on}."


def birth_date(year: int, birthday: Holiday) -> dt.date:
    """The day the user was born; a `ValueError` for a day the year did not have (29
    February in a common year)."""
    date = date_in(birthday.when, year)
    if date is None:
        raise ValueError(f"{birthday.name} wasn't a day in {year}")
    return date


def days_old(year: int, birthday: Holiday, today: dt.date) -> str:
    """ "You're 13,428 days old: you were born on March 3, 1990."; a `ValueError` for a day
    to come."""
    born = birth_date(year, birthday)
    if born > today:
        raise ValueError(f"{birthday.name}, {year} hasn't come yet")
    return (
        f"You're {(today - born).days:,} days old: you were born on {born:%B} {born.day}, {year}."
    )


def born_on(year: int, birthday: Holiday) -> str:
    """ "You were born on a Saturday: March 3, 1990."; a `ValueError` for a day the year
    did not have."""
    date = birth_date(year, birthday)
    return f"You were born on a {date:%A}: {date:%B} {date.day}, {year}."


def until_weekday(weekday: str, date: dt.date, today: dt.date) -> str:
    """ "Friday is in 4 days, on June 1.", "Friday is tomorrow.", "It's Friday today; next
    Friday is in 7 days, on June 8." ("when is next Friday", asked on a Friday, was
    answered only that it was Friday)."""
    days = (date - today).days
    name = weekday.capitalize()
    if days == 0:
        week_on = date + dt.timedelta(days=7)
        return f"It's {name} today; next {name} is in 7 days, on {week_on:%B} {week_on.day}."
    if days == 1:
        return f"{name} is tomorrow."
    return f"{name} is in {days} days, on {date:%B} {date.day}."


def weekend_said(date: dt.date, today: dt.date, weekend: Sequence[str], said: str) -> str:
    """Whether ``date`` (``said`` as "tomorrow", "friday" ...) falls on the ``weekend`` (its
    days' names, lower case). Today: "It's Saturday, the weekend.", "It's Monday, a weekday:
    the weekend starts in 5 days, on Saturday.", one answer to "is it the weekend", "is
    today a weekday" and "how long until the weekend"; another day: "Tomorrow is Tuesday,
    a weekday.", "Friday is a weekday."."""
    name = f"{date:%A}"
    kind = "the weekend" if name.lower() in weekend else "a weekday"
    if date != today:
        day = said[:1].upper() + said[1:]
        return f"{name} is {kind}." if said == name.lower() else f"{day} is {name}, {kind}."
    if kind == "the weekend":
        return f"It's {name}, the weekend."
    days = next(n for n in range(1, 7) if f"{today + dt.timedelta(n):%A}".lower() in weekend)
    start = today + dt.timedelta(days)
    when = "tomorrow" if days == 1 else f"in {days} days, on {start:%A}"
    return f"It's {name}, a weekday: the weekend starts {when}."


def next_leap_year(after: dt.date) -> int:
    """The first year from ``after`` on whose 29 February is not past."""
    year = after.year + (after.month > 2)
    while not calendar.isleap(year):
        year += 1
    return year


def days_in_month(month: int | None, year: float | None, today: dt.date) -> str:
    """ "February 2028 has 29 days.", "April has 30 days."; ``month`` None: this month,
    ``year`` None: the coming such month (this year's, or next year's once this year's is
    past: February asked in December may be a leap February). `ValueError` for a year the
    calendar has not."""
    month = today.month if month is None else month
    whole = whole_year(today.year + (month < today.month) if year is None else year)
    days = calendar.monthrange(whole, month)[1]
    if year is None and month != 2:  # the same every year: no year to name
        return f"{calendar.month_name[month]} has {days} days."
    return f"{calendar.month_name[month]} {whole} has {days} days."


def leap_year(year: float | None, today: dt.date) -> str:
    """ "Yes, 2028 will be a leap year." or "No, 2026 is not a leap year. The next is 2028.";
    ``year`` None: this year. `ValueError` for a year the calendar has not."""
    whole = whole_year(today.year if year is None else year)
    verb, negated = (
        ("is", "is not") if whole == today.year
        else ("was", "was not") if whole < today.year
        else ("will be", "will not be")
    )  # fmt: skip
    if calendar.isleap(whole):
        return f"Yes, {whole} {verb} a leap year."
    answer = f"No, {whole} {negated} a leap year."
    following = next_leap_year(dt.date(whole, 1, 1))
    if whole >= today.year and following <= LAST_YEAR:
        answer += f" The next is {following}."
    return answer


def upcoming_leap_day(today: dt.date) -> str:
    """ "The next leap year is 2028: February 29 falls on a Tuesday."."""
    year = next_leap_year(today)
    return f"The next leap year is {year}: February 29 falls on a {dt.date(year, 2, 29):%A}."


def week_of_year(today: dt.date) -> str:
    """ "It's week 22 of 2026." (ISO 8601 weeks, which start on a Monday; the first holds
    the year's first Thursday)."""
    year, week, _ = today.isocalendar()
    return f"It's week {week} of {year}."


def month_end(today: dt.date) -> str:
    """ "The last day of December is Thursday, December 31, in 24 days."."""
    last = dt.date(today.year, today.month, calendar.monthrange(today.year, today.month)[1])
    days = (last - today).days
    when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
    return f"The last day of {last:%B} is {spoken_date(last)}, {when}."


def day_of_year(today: dt.date) -> str:
    """ "Today is day 148 of 2026, and 217 days are left."."""
    number = today.timetuple().tm_yday
    left = (dt.date(today.year, 12, 31) - today).days
    if left == 0:
        return f"Today is day {number} of {today.year}, its last."
    rest = "1 day is left" if left == 1 else f"{left} days are left"
    return f"Today is day {number} of {today.year}, and {rest}."


def counted_days(after: dt.date, last: dt.date, counted: Callable[[dt.date], bool]) -> int:
    """How many days after ``after`` and up to ``last`` (counted) ``counted`` takes."""
    return sum(counted(after + dt.timedelta(n)) for n in range(1, (last - after).days + 1))


def off_weekend(weekend: Sequence[str]) -> Callable[[dt.date], bool]:
    """Whether a day is a weekday: off the ``weekend`` (its days' names, lower case)."""
    return lambda day: f"{day:%A}".lower() not in weekend


def weekdays_until(date: dt.date, name: str, today: dt.date, weekend: Sequence[str]) -> str:
    """The weekdays between today and ``date`` (``name``: "Christmas", "Friday"), neither
    counted: "There are 13 weekdays before Christmas, not counting today."."""
    if date == today:
        return f"It's {name} today."
    count = counted_days(today, date - dt.timedelta(1), off_weekend(weekend))
    number = "no weekdays" if count == 0 else plural(count, "weekday")
    return f"There {'is' if count == 1 else 'are'} {number} before {name}, not counting today."


def days_left(today: dt.date, counted: Callable[[dt.date], bool], noun: str, *,
              in_month: bool) -> str:  # fmt: skip
    """The month's or the year's days that ``counted`` takes (``noun``: "weekday",
    "Sunday"), and those after today: "2026 has 261 weekdays, and 18 are left, not counting
    today."."""
    if in_month:
        first = today.replace(day=1)
        last = today.replace(day=calendar.monthrange(today.year, today.month)[1])
        name = f"{today:%B}"
    else:
        first, last, name = dt.date(today.year, 1, 1), dt.date(today.year, 12, 31), f"{today.year}"
    total = counted_days(first - dt.timedelta(1), last, counted)
    left = counted_days(today, last, counted)
    rest = (
        "none are left after today"
        if left == 0
        else (f"{left} {'is' if left == 1 else 'are'} left, not counting today")
    )
    return f"{name} has {plural(total, noun)}, and {rest}."


def weekdays_left(today: dt.date, weekend: Sequence[str], *, in_month: bool) -> str:
    """ "2026 has 261 weekdays, and 18 are left, not counting today."."""
    return days_left(today, off_weekend(weekend), "weekday", in_month=in_month)


def named_weekdays(weekday: str, month: int | None, today: dt.date) -> str:
    """How many of a weekday (lower case) this year or in ``month`` (None: this year; this
    month: with those left after today): "2026 has 52 Sundays, and 3 are left, not counting
    today.", "March 2027 has 4 Fridays." (the coming March)."""
    name = weekday.capitalize()

    def on_it(day: dt.date) -> bool:
        return f"{day:%A}" == name

    if month is None or month == today.month:
        return days_left(today, on_it, name, in_month=month is not None)
    year = today.year if month > today.month else today.year + 1
    last = calendar.monthrange(year, month)[1]
    total = counted_days(dt.date(year, month, 1) - dt.timedelta(1), dt.date(year, month, last),
                         on_it)  # fmt: skip
    return f"{calendar.month_name[month]} {year} has {plural(total, name)}."


def weeks_left(today: dt.date) -> str:
    """ "3 weeks and 3 days are left in 2026, after today: it ends on Thursday, December
    31."."""
    last = dt.date(today.year, 12, 31)
    days = (last - today).days
    if days == 0:
        return f"Today is the last day of {today.year}."
    verb = "is" if days in (1, 7) else "are"  # "1 week is left", "1 week and 2 days are"
    return (f"{weeks_and_days(days)} {verb} left in {today.year}, after today: it ends on "
            f"{spoken_date(last)}.")  # fmt: skip


QUARTERS = ("first", "second", "third", "fourth")


def quarter(today: dt.date) -> str:
    """ "It's the fourth quarter of 2026, October to December: it ends on Thursday, December
    31, in 24 days." (calendar quarters)."""
    number = (today.month - 1) // 3
    first, last_month = number * 3 + 1, number * 3 + 3
    last = dt.date(today.year, last_month, calendar.monthrange(today.year, last_month)[1])
    days = (last - today).days
    when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
    return (f"It's the {QUARTERS[number]} quarter of {today.year}, "
            f"{calendar.month_name[first]} to {calendar.month_name[last_month]}: it ends on "
            f"{spoken_date(last)}, {when}.")  # fmt: skip
