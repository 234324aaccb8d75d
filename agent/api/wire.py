"""The API's request and response values, its error type, and parsing of client input.

Client input is parsed at the edge into typed values: a malformed body is 400, a well-formed
one with wrong types or values is 422 naming the field, so a client can always tell the two
apart.  Handlers raise ApiError; the server turns it into a JSON error and never lets a
traceback reach the client.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from abhaya.client import contract

JSON_TYPE = "application/json"


class ApiError(Exception):
    """An answer other than success: HTTP `status`, a message for people, the field at fault."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.headers = headers

    def response(self) -> Response:
        record: dict[str, object] = {"error": self.message}
        if self.field is not None:
            record["field"] = self.field
        return json_response(record, self.status, self.headers)


def invalid(field: str, message: str) -> ApiError:
    """422: the request was understood, but `field` has a wrong type or value."""
    return ApiError(422, f"{field}: {message}", field=field)


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: Mapping[str, tuple[str, ...]]
    headers: Mapping[str, str]
    """Lower-case names."""
    body: bytes = b""

    def bearer_token(self) -> str | None:
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        token = token.strip()
        return token if scheme.lower() == "bearer" and token else None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; 400 when it is not JSON, or not an object."""
        if not self.body.strip():
            raise ApiError(400, "the request body must be a JSON object")
        try:
            value = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            raise ApiError(400, f"the request body is not valid JSON: {error}") from None
        if not isinstance(value, dict):
            raise ApiError(400, "the request body must be a JSON object")
        return value

    def param(self, name: str) -> str | None:
        """The one value of query parameter `name`; 422 when it is given twice."""
        values = self.query.get(name, ())
        if len(values) > 1:
            raise invalid(name, "give this parameter once")
        return values[0] if values else None

    def values(self, name: str) -> tuple[str, ...]:
        """All values of `name`, repeated (?kind=a&kind=b) or comma-separated (?kind=a,b)."""
        return tuple(
            part.strip()
            for value in self.query.get(name, ())
            for part in value.split(",")
            if part.strip()
        )

    def only_params(self, allowed: Iterable[str]) -> None:
        """422 for a parameter the call does not know (a typo would silently mean "any")."""
        unknown = sorted(set(self.query) - set(allowed))
        if unknown:
            raise invalid(unknown[0], f"unknown parameter; expected one of {sorted(allowed)}")


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes | Iterable[bytes]
    """Bytes, or chunks streamed as they are made (exports); then no Content-Length is sent."""
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = field(default=())


def json_response(
    value: object, status: int = 200, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    return Response(status, body, f"{JSON_TYPE}; charset=utf-8", headers)


def parse_time(text: str | None, field: str) -> datetime | None:
    """An ISO 8601 time with a time zone (2026-11-30T10:00:00+05:30 or ...Z); None if absent."""
    if text is None:
        return None
    try:
        return contract.parse_time(text)
    except contract.TimeFormatError as error:
        raise invalid(field, str(error)) from None


def parse_int(text: str | None, field: str, low: int, high: int, default: int) -> int:
    """An integer in [low, high]; `default` when absent."""
    if text is None:
        return default
    if not text.isascii() or not text.lstrip("-").isdigit():
        raise invalid(field, f"expected a whole number from {low} to {high}")
    value = int(text)
    if not low <= value <= high:
        raise invalid(field, f"expected a whole number from {low} to {high}, got {value}")
    return value
