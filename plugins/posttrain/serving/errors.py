"""OpenAI's error body, ``{"error": {"message", "type", "param", "code"}}``, as an exception
an endpoint raises and the server answers with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ApiError(Exception):
    status: int
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None

    def __str__(self) -> str:
        return self.message

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def bad_request(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, "invalid_request_error", param, code)


def unsupported(param: str, why: str) -> ApiError:
    """A parameter OpenAI defines that this server does not honour: refused, never ignored."""
    return ApiError(400, f"'{param}' is not supported by herd serve: {why}", "invalid_request_error", param,
                    "unsupported_parameter")
