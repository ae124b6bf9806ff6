"""``GET /v1/models``: the catalog's models that are on disk; and which name serves a role.

A chat request must name the model the llm serves (its catalog id, or the file name of a
.gguf given by path); the audio and embedding routes take their role's model id or one of
the names OpenAI clients send by default (``api.openai.model_aliases``: whisper-1, tts-1,
text-embedding-3-small ...). A name that is no model at all is a 404 ``model_not_found``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web

from solo_actors.api.common import json_response, state_of
from solo_actors.api.state import ApiState
from solo_actors.api.v1.errors import invalid
from solo_actors.config import Config
from solo_actors.config.schema import ModelRole
from solo_actors.models import ModelPaths, load_catalog

OWNERS = {"owned_by": "solo"}
"""What the listing says owns each model (OpenAI's ``owned_by``)."""


def configured(config: Config, role: ModelRole) -> str:
    """The model setting of ``role``: a catalog id or a path."""
    return {"llm": config.llm.model, "stt": config.voice.stt.model,
            "tts": config.voice.tts.voice, "embeddings": config.memory.model}[role]  # fmt: skip


def served_id(config: Config, role: ModelRole) -> str:
    """The name under which the model of ``role`` is listed: its catalog id, or the file or
    folder name of a model given by path (as the llm names it in its figures)."""
    setting = configured(config, role)
    return Path(setting).name if "/" in setting or setting.endswith(".gguf") else setting


def models_on_disk(config: Config) -> list[dict[str, Any]]:
    """OpenAI model objects: every catalog model whose files are in the models folder, and
    the served models given by path. ``solo_role`` says what each one does."""
    paths = ModelPaths.from_config(config.models, config.solo.var_dir)
    catalog = load_catalog(paths.catalog)
    listed: dict[str, dict[str, Any]] = {}
    for asset in catalog.models:
        entry = paths.models_dir / asset.entry
        if entry.exists():
            listed[asset.id] = {"id": asset.id, "object": "model",
                                "created": int(entry.stat().st_mtime), **OWNERS,
                                "solo_role": asset.role}  # fmt: skip
    for role in ("llm", "stt", "tts", "embeddings"):
        name = served_id(config, role)  # type: ignore[arg-type]
        listed.setdefault(name, {"id": name, "object": "model", "created": 0,
                                 **OWNERS, "solo_role": role})  # fmt: skip
    return list(listed.values())


async def list_models(request: web.Request) -> web.Response:
    models = await asyncio.to_thread(models_on_disk, state_of(request).config)
    return json_response({"object": "list", "data": models})


async def get_model(request: web.Request) -> web.Response:
    model_id = request.match_info["id"]
    models = await asyncio.to_thread(models_on_disk, state_of(request).config)
    for model in models:
        if model["id"] == model_id:
            return json_response(model)
    raise not_found(model_id)


def not_found(model_id: str) -> Exception:
    return invalid(f"the model {model_id!r} does not exist here; GET /v1/models lists the "
                   "models on disk", param="model", code="model_not_found", status=404)  # fmt: skip


async def check_model(state: ApiState, model: str, role: ModelRole) -> str:
    """``model`` if it names the model serving ``role`` (or an alias of it), else 404 for
    an unknown name and 400 for a model on disk that serves something else."""
    config = state.config
    served = served_id(config, role)
    aliases = config.api.openai.model_aliases
    if model in (served, configured(config, role)) or aliases.get(model) == role:
        return model
    known = await asyncio.to_thread(models_on_disk, config)
    if not any(entry["id"] == model for entry in known) and model not in aliases:
        raise not_found(model)
    raise invalid(f"{model!r} is not the model serving this route; Solo's {role} model is "
                  f"{served!r} (set it in the config to change it)", param="model",
                  code="model_not_available")  # fmt: skip
