"""Errors in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``.

Every answer of a /v1 route that is not a success has this shape, the refusals made before
the handler runs (401, 403, 413, 429, ...) included, so OpenAI clients raise their own
exception types (a 401 is the client's ``AuthenticationError``) with Solo's message.
"""

from __future__ import annotations

from typing import Any

from solo_actors.api.state import ApiError

PREFIX = "/v1/"

ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
               403: "permission_error", 404: "invalid_request_error",
               405: "invalid_request_error", 413: "invalid_request_error",
               415: "invalid_request_error", 421: "invalid_request_error",
               429: "rate_limit_error", 503: "service_unavailable", 504: "timeout"}  # fmt: skip
"""OpenAI's ``error.type`` by status; any other 5xx is a ``server_error``."""

DEFAULT_CODES = {401: "invalid_api_key", 404: "not_found", 413: "request_too_large",
                 429: "rate_limit_exceeded"}  # fmt: skip

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["message", "type", "param", "code"],
        "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                       "param": {"type": "string", "nullable": True},
                       "code": {"type": "string", "nullable": True}},
    }},
}  # fmt: skip
"""The OpenAPI schema of every /v1 error answer."""


def is_v1(path: str) -> bool:
    return path.startswith(PREFIX)


def invalid(message: str, param: str | None = None, code: str | None = None,
            status: int = 400) -> ApiError:  # fmt: skip
    """A refused /v1 request: ``param`` names the field at fault, ``code`` the reason."""
    return ApiError(status, message, param=param, code=code)


def error_body(error: ApiError) -> dict[str, Any]:
    status = error.status
    kind = ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    code = error.extra.get("code") or DEFAULT_CODES.get(status)
    return {"error": {"message": error.message, "type": kind,
                      "param": error.extra.get("param"), "code": code}}  # fmt: skip
