"""Ids for turns, conversations, requests and stored items."""

from __future__ import annotations

import uuid


def new_id() -> str:
    """A short random id for turns, conversations and requests."""
    return uuid.uuid4().hex[:16]
