"""The API's timers, alarms and reminders: list (read), create and cancel (control).

``GET /timers`` (likewise ``/alarms``, ``/reminders``) lists the pending items, soonest
first, each with its ``id``, ``label`` and ``due_at`` (epoch seconds), plus ``remaining_s``
and ``length_s`` for timers (a paused one's ``state`` is "paused": its time left held) and
``repeats`` for alarms and reminders (null: once; "daily",
"weekdays", "weekends", a weekday's name or "monthly-N", the Nth of each month or its last
day: again at that time of day). ``POST`` creates
one (checked as a spoken one is: a negative or too long timer, a time past, a ``room`` that
is no ``[[satellites]]`` name, a ``due_at`` on a day it does not repeat on, is a 400 with
the reason), ringing in ``room`` or on Solo's own speaker; ``DELETE /timers/{id}`` cancels
one (404 if there is no such pending item; a repeating one is cancelled with every time to
come). ``POST /announce`` says a text in one room (a ``[[satellites]]`` name) or, without
one, in every room and on Solo's own speaker. ``GET /lists`` lists the open items of the
user's lists (``?list=shopping``: one), oldest first; ``POST /lists/{list}`` puts items on
a list (made by naming it), ``DELETE /lists/{list}/items/{id}`` crosses one off and
``DELETE /lists/{list}`` every one: the same lists that "add milk to my shopping list"
changes. Every handler asks the ``skills`` actor from
a worker thread, waiting at most ``api.actor_timeout``; the actor makes a change durable in
the store before it answers. One handler per kind and verb, made by `handlers_for`, so each
has its own name in the OpenAPI document.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from aiohttp import web

from solo_actors.api.common import (
    TEXT_PATTERN,
    ask_actor,
    decode_body,
    json_response,
    state_of,
)
from solo_actors.api.state import ApiError, ApiState
from solo_actors.messages import (
    AddToList,
    Announce,
    Announced,
    CancelSkillItem,
    CreateSkillItem,
    CrossOffList,
    GetLists,
    ListChanged,
    ListItem,
    ListItems,
    ListSkillItems,
    Message,
    SkillItem,
    SkillItems,
    SkillKind,
    SkillRefused,
    SkillRepeat,
)
from solo_actors.names import SKILLS_NAME

Handler = Callable[[web.Request], Awaitable[web.Response]]
Label = Annotated[str, msgspec.Meta(max_length=200)]
KINDS: tuple[SkillKind, ...] = ("timer", "alarm", "reminder")
STATUS = {"invalid": 400, "not_found": 404, "unavailable": 503}
"""The HTTP status of each `SkillRefused` reason."""


RoomName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$", max_length=64,
                                       description="a [[satellites]] name")]  # fmt: skip


class TimerBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """POST /timers: a timer of ``seconds``, optionally named ("pasta"), ringing in ``room``
    (without one, on Solo's own speaker)."""

    # ge, not gt: OpenAPI 3.0 has no numeric exclusiveMinimum.
    seconds: Annotated[float, msgspec.Meta(ge=1)]
    label: Label = ""
    room: RoomName | None = None


class AlarmBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """POST /alarms: an alarm at ``due_at`` (epoch seconds), ringing in ``room``, then again
    as ``repeats`` says; the label defaults to the time."""

    due_at: float
    label: Label = ""
    room: RoomName | None = None
    repeats: SkillRepeat | None = None


class ReminderBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """POST /reminders: remind of ``label`` (the task, e.g. "call my sister") at ``due_at``,
    in ``room``, then again as ``repeats`` says."""

    due_at: float
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    room: RoomName | None = None
    repeats: SkillRepeat | None = None


BODIES: dict[SkillKind, type[TimerBody | AlarmBody | ReminderBody]] = {
    "timer": TimerBody, "alarm": AlarmBody, "reminder": ReminderBody,
}  # fmt: skip


class ListBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """POST /lists/{list}: put ``items`` on the list; those on it already are left as they
    are (and named in the answer's ``already``)."""

    items: Annotated[list[Annotated[str, msgspec.Meta(
        pattern=TEXT_PATTERN, min_length=1, max_length=200,
        description="not only white space; no control characters but tab and newline",
    )]], msgspec.Meta(min_length=1, max_length=50)]  # fmt: skip


class AnnounceBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """POST /announce: say ``text`` in ``room``; without a room, in every room and on Solo's
    own speaker."""

    text: Annotated[str, msgspec.Meta(
        pattern=TEXT_PATTERN, max_length=1000,
        description="not only white space; no control characters but tab and newline",
    )]  # fmt: skip
    room: RoomName | None = None


def shown(item: SkillItem, now: float) -> dict[str, Any]:
    view: dict[str, Any] = {"id": item.item_id, "kind": item.kind, "label": item.label,
                            "due_at": item.due_at, "state": item.state,
                            "room": item.room}  # fmt: skip
    if item.kind == "timer":
        left = max(0.0, item.seconds_left(now))
        view |= {"remaining_s": round(left, 3), "length_s": item.length}
    else:
        view["repeats"] = item.repeats
    return view


async def ask_skills(state: ApiState, message: Message) -> Any:
    return await ask_actor(state, SKILLS_NAME, message, "the skills actor")


def handlers_for(kind: SkillKind) -> tuple[Handler, Handler, Handler]:
    """The list, create and cancel handlers of one kind."""

    async def listing(request: web.Request) -> web.Response:
        answer: SkillItems = await ask_skills(state_of(request), ListSkillItems(kind=kind))
        now = time.time()
        return json_response({f"{kind}s": [shown(item, now) for item in answer.items]})

    async def create(request: web.Request) -> web.Response:
        body = await decode_body(request, BODIES[kind])
        seconds = body.seconds if isinstance(body, TimerBody) else 0.0
        due_at = 0.0 if isinstance(body, TimerBody) else body.due_at
        repeats = None if isinstance(body, TimerBody) else body.repeats
        request_message = CreateSkillItem(kind=kind, label=body.label, due_at=due_at,
                                          length=seconds, room=body.room,
                                          repeats=repeats)  # fmt: skip
        answer = await ask_skills(state_of(request), request_message)
        if isinstance(answer, SkillRefused):
            raise ApiError(STATUS[answer.reason], answer.message)
        (item,) = answer.items
        response = json_response(shown(item, time.time()), 201)
        response.headers["Location"] = f"/{kind}s/{item.item_id}"
        return response

    async def cancel(request: web.Request) -> web.Response:
        message = CancelSkillItem(item_id=request.match_info["id"], kind=kind)
        answer = await ask_skills(state_of(request), message)
        if isinstance(answer, SkillRefused):
            raise ApiError(STATUS[answer.reason], answer.message)
        return json_response(shown(answer.items[0], time.time()))

    for handler, verb in ((listing, "list"), (create, "create"), (cancel, "cancel")):
        handler.__name__ = handler.__qualname__ = f"{verb}_{kind}"
    return listing, create, cancel


def list_item(item: ListItem) -> dict[str, Any]:
    return {"id": item.item_id, "list": item.list_name, "text": item.text,
            "created_at": item.created_at, "state": item.state}  # fmt: skip


async def lists(request: web.Request) -> web.Response:
    """GET /lists: each list's open items, oldest first."""
    list_name = request.query.get("list")
    answer: ListItems = await ask_skills(state_of(request), GetLists(list_name=list_name))
    by_list: dict[str, list[dict[str, Any]]] = {}
    for item in answer.items:
        by_list.setdefault(item.list_name, []).append(list_item(item))
    return json_response({"lists": by_list})


async def add_to_list(request: web.Request) -> web.Response:
    """POST /lists/{list}: the items added, and those that were on it already."""
    body = await decode_body(request, ListBody)
    message = AddToList(list_name=request.match_info["list"], items=[i.strip() for i in body.items])
    answer = await ask_skills(state_of(request), message)
    if isinstance(answer, SkillRefused):
        raise ApiError(STATUS[answer.reason], answer.message)
    assert isinstance(answer, ListChanged)
    added = [list_item(item) for item in answer.items]
    return json_response({"added": added, "already": answer.already}, 201)


async def cross_off(request: web.Request) -> web.Response:
    """DELETE /lists/{list}/items/{id}: the item crossed off."""
    message = CrossOffList(list_name=request.match_info["list"], item_id=request.match_info["id"])
    answer = await ask_skills(state_of(request), message)
    if isinstance(answer, SkillRefused):
        raise ApiError(STATUS[answer.reason], answer.message)
    assert isinstance(answer, ListChanged)
    return json_response(list_item(answer.items[0]))


async def clear_list(request: web.Request) -> web.Response:
    """DELETE /lists/{list}: every open item crossed off (none: an empty list)."""
    answer = await ask_skills(state_of(request), CrossOffList(list_name=request.match_info["list"]))
    if isinstance(answer, SkillRefused):
        raise ApiError(STATUS[answer.reason], answer.message)
    assert isinstance(answer, ListChanged)
    return json_response({"crossed_off": [list_item(item) for item in answer.items]})


async def announce(request: web.Request) -> web.Response:
    """POST /announce: where the text was said, and which rooms were not connected."""
    body = await decode_body(request, AnnounceBody)
    answer = await ask_skills(state_of(request), Announce(text=body.text, room=body.room))
    if isinstance(answer, SkillRefused):
        raise ApiError(STATUS[answer.reason], answer.message)
    assert isinstance(answer, Announced)
    return json_response({"delivered": answer.delivered, "unreachable": answer.unreachable})
