"""``POST /config/reload``: load the profile again and apply what can change while running.

All of ``[log]`` and the `LIVE_API_KEYS` of ``[api]`` apply at once; the answer lists every
other changed key as needing a restart.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from aiohttp import web

from solo_actors.api.common import (
    json_response,
    state_of,
)
from solo_actors.api.state import ApiError
from solo_actors.config import Config, ConfigError, load_config
from solo_actors.runtime.logs import configure_logging


def changed_keys(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two config trees."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(set(old) | set(new))
        return [k for key in keys for k in changed_keys(old.get(key), new.get(key),
                                                        f"{prefix}{key}.")]  # fmt: skip
    return [] if old == new else [prefix.rstrip(".")]


LIVE_API_KEYS = ("rate_per_token", "rate_per_address", "rate_burst", "ask_timeout",
                 "actor_timeout")  # fmt: skip
"""[api] settings a reload applies at once, besides all of [log]; any other change needs a
restart of the assistant (or of the actor that reads it)."""


def live_part(old: Config, new: Config) -> Config:
    """``old`` with the settings of ``new`` that can change while running."""
    api = msgspec.structs.replace(old.api, **{key: getattr(new.api, key) for key in LIVE_API_KEYS})
    return msgspec.structs.replace(old, log=new.log, api=api)


async def config_reload(request: web.Request) -> web.Response:
    state = state_of(request)
    old = state.config
    try:
        new = await asyncio.to_thread(load_config, old.profile)
    except ConfigError as error:
        raise ApiError(400, f"the profile does not load: {error}; nothing was changed") from None
    changed = changed_keys(msgspec.to_builtins(old), msgspec.to_builtins(new))
    live = live_part(old, new)
    applied = changed_keys(msgspec.to_builtins(old), msgspec.to_builtins(live))
    if live.log != old.log:
        configure_logging(live.log)
    state.apply(live)
    return json_response(
        {
            "profile": new.profile,
            "applied": applied,
            "needs_restart": [key for key in changed if key not in applied],
        }
    )
