"""Turning the store's write messages (and supervisor reports) into table rows.

Every text field passes through `clean_text`, so a row never fails its batch for its content:
invalid UTF-8 is replaced and oversized text is cut (and both are logged).
"""

from __future__ import annotations

import hashlib

import msgspec

import supervisors
from solo_actors.messages import (
    RecordEvent,
    RecordEvents,
    RecordMetric,
    RecordTurn,
    SaveApiToken,
    SaveListItem,
    SaveSession,
    SaveSkillItem,
    SaveUser,
)
from solo_actors.store.backend import Row
from solo_actors.store.text import clean_text

WRITE_TYPES = (
    RecordTurn, RecordEvent, RecordEvents, RecordMetric, SaveUser, SaveApiToken, SaveSession,
    SaveSkillItem, SaveListItem, supervisors.Report,
)  # fmt: skip

_json = msgspec.json.Encoder()


def hash_token(token: str) -> str:
    """What the store keeps of an API token: its SHA-256, hex (tokens are random, no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()


def rows_of(message: object, max_text_bytes: int) -> list[tuple[str, Row]]:
    """The (table, row) pairs a write message stands for."""

    def text(value: str | None, field: str) -> str | None:
        return None if value is None else clean_text(value, field, max_text_bytes)

    def json(value: object, field: str) -> str:
        return clean_text(_json.encode(value), field, max_text_bytes)

    match message:
        case RecordTurn():
            t = message.times
            stages = (
                (t.wake, t.speech_end, t.transcript, t.first_token, t.first_audio, t.done)
                if t is not None
                else (None,) * 6
            )
            return [
                ("conversations",
                 (message.conversation_id, message.at, message.user_id, None)),
                ("turns",
                 (message.turn_id, message.conversation_id, message.at,
                  text(message.user_text, "turn.user_text"),
                  text(message.reply_text, "turn.reply_text"), message.model,
                  message.prompt_tokens, message.completion_tokens, message.tokens_per_second,
                  message.time_to_first_token, message.finish_reason, *stages)),
            ]  # fmt: skip
        case RecordEvent():
            return [("events", (message.at, text(message.kind, "event.kind"),
                                text(message.source, "event.source"),
                                json(message.data, "event.data")))]  # fmt: skip
        case RecordEvents():
            return [pair for event in message.events for pair in rows_of(event, max_text_bytes)]
        case RecordMetric():
            return [("metrics", (message.at, message.name, float(message.value),
                                 json(message.labels, "metric.labels")))]  # fmt: skip
        case SaveUser():
            return [("users", (message.user_id, message.at, text(message.name, "user.name"),
                               message.role))]  # fmt: skip
        case SaveApiToken():
            return [("api_tokens", (message.token_hash, message.user_id, message.at,
                                    text(message.label, "token.label"), message.expires_at,
                                    message.revoked))]  # fmt: skip
        case SaveSession():
            data = json(message.data, "session.data")
            return [("sessions", (message.session_id, message.user_id, message.at,
                                  message.expires_at, data))]  # fmt: skip
        case SaveSkillItem():
            item = message.item
            return [("skill_items", (item.item_id, item.created_at, item.kind,
                                     text(item.label, "skill.label"), item.due_at, item.length,
                                     item.state, item.fired_at,
                                     text(item.room, "skill.room"), item.repeats,
                                     item.paused_left))]  # fmt: skip
        case SaveListItem():
            listed = message.item
            return [("list_items", (listed.item_id, listed.created_at,
                                    text(listed.list_name, "list.name"),
                                    text(listed.text, "list.text"), listed.state,
                                    listed.changed_at))]  # fmt: skip
        case supervisors.Report():
            body = _json.encode(message)
            report_id = hashlib.sha256(body).hexdigest()[:32]  # same report, same row
            return [("reports", (report_id, message.timestamp,
                                 str(type(message).__struct_config__.tag),
                                 message.supervisor, message.child_id,
                                 None if message.reason is None else str(message.reason),
                                 clean_text(body, "report", max_text_bytes)))]  # fmt: skip
    raise TypeError(f"the store does not take {type(message).__name__} messages")
