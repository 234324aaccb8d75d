"""JSON from the network, within bounds: never more than a size cap, never deeper than the
parser can bear, never anything but UTF-8.

Python's `json` raises `RecursionError` on very deep nesting (`[[[[...`); that is caught here
with every other way the text can fail, so a hostile frame costs one failed parse.  Size is
checked before decoding, so a huge frame costs nothing.
"""

from __future__ import annotations

import json

MAX_JSON_BYTES = 1024 * 1024
"""A JSON document larger than this is not parsed (a chat message is a few kB)."""


class Unreadable(ValueError):
    """The input is not JSON that can be read within bounds; the message is the short reason
    the caller counts ("too large", "not UTF-8", "not JSON", "too deep")."""


def load_json(data: bytes | str, max_bytes: int = MAX_JSON_BYTES) -> object:
    """The parsed document; raises `Unreadable` for anything too large, not UTF-8, not JSON or
    nested too deep for the parser."""
    if len(data) > max_bytes:
        raise Unreadable("too large")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Unreadable("not UTF-8") from None
    else:
        text = data
    try:
        return json.loads(text)
    except RecursionError:
        raise Unreadable("too deep") from None
    except ValueError:  # JSONDecodeError, and a number too long to convert
        raise Unreadable("not JSON") from None


def member(document: object, *path: str) -> object:
    """The value at `path` through nested objects, or None where any step is missing."""
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def id_text(value: object) -> str | None:
    """An id as text: a string, or an integer (JSON numbers), else None."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None
