"""What an image event keeps about the image: hashes, the match and the model, never pixels.

The proxy writes it as the `detail` of an `EventKind.IMAGE` event (`ImageEvidence(...).to_json()`)
and `abhaya report` reads it back (`ImageEvidence.from_json(detail)`); this module is the one
place that knows the keys.  Reading is tolerant where it can be and strict where it must be:
unknown keys are ignored (a newer agent may add some), missing keys and nulls take the default
(a model-only event has no match, a match may have no score), but a key of the wrong type is an
`ImageEvidenceError` naming it, since evidence for the authorities must not be guessed at.

The JSON is ASCII (`\\uXXXX` escapes) and at most `MAX_DETAIL_CHARS` long, so the store keeps it
whole and unchanged: an event field longer than `events.MAX_FIELD_CHARS` would be cut, and a cut
JSON text no longer parses.  Free text (the page URL, a label) is shortened to fit instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from typing import Any

MAX_DETAIL_CHARS = 4000
"""Longest `to_json()` text; under the store's field limit (4096) with room to spare."""
_FREE_TEXT_LIMIT = 512
"""Most characters of one free-text field before `to_json` starts shortening further."""
_CUT_MARK = "..."

_KEY_OF_FIELD = {"list_name": "list"}
"""JSON keys that differ from the field names (`list` would shadow the builtin)."""


class ImageEvidenceError(ValueError):
    """An image event's detail that is not the JSON object this module writes."""


@dataclass(frozen=True, slots=True)
class ImageEvidence:
    """The image behind one image event.  Empty text and None mean "not known" or "not used"."""

    sha256: str = ""
    """Hex SHA-256 of the image bytes as the server sent them."""
    pdq: str = ""
    """The PDQ perceptual hash, 64 hex digits."""
    pdq_quality: int | None = None
    """PDQ's own quality figure (0-100); matches need at least 50."""
    distance: int | None = None
    """Hamming distance to the listed hash, for a match."""
    list_name: str = ""
    """The hash list that matched (JSON key `list`)."""
    list_version: str = ""
    listed_hash: str = ""
    """Hex of the list entry that matched."""
    label: str = ""
    """The matched entry's label in the list; may be empty."""
    score: float | None = None
    """The image model's score (0-1), when the model judged it."""
    model: str = ""
    """The image model's version."""
    page: str = ""
    """The page the image was on (from Referer); empty when unknown."""
    width: int | None = None
    height: int | None = None
    format: str = ""
    """The decoded image format (jpeg, png, webp, gif)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, every key present (None where not known), under the JSON keys."""
        return {_KEY_OF_FIELD.get(f.name, f.name): getattr(self, f.name) for f in fields(self)}

    def to_json(self) -> str:
        """Compact ASCII JSON of at most MAX_DETAIL_CHARS; free text shortened to fit."""
        limit = _FREE_TEXT_LIMIT
        while True:
            text = json.dumps(_shortened(self, limit).to_dict(), separators=(",", ":"))
            if len(text) <= MAX_DETAIL_CHARS:
                return text
            limit //= 2

    @classmethod
    def from_json(cls, text: str) -> ImageEvidence:
        """Read a detail written by `to_json` (or by an older or newer agent)."""
        try:
            record = json.loads(text)
        except ValueError as error:
            raise ImageEvidenceError(f"the image event's detail is not JSON: {error}") from None
        if not isinstance(record, dict):
            raise ImageEvidenceError("the image event's detail is not a JSON object")
        values: dict[str, Any] = {}
        for field in fields(cls):
            key = _KEY_OF_FIELD.get(field.name, field.name)
            value = record.get(key)
            if value is not None:
                values[field.name] = _checked(key, value, field.type)
        return cls(**values)


def _checked(key: str, value: object, annotation: object) -> object:
    """`value` if it has the type the field's annotation names; ImageEvidenceError otherwise."""
    kind = str(annotation).split(" |")[0]
    if kind == "str" and isinstance(value, str):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    wanted = {"str": "a string", "int": "an integer", "float": "a number"}[kind]
    raise ImageEvidenceError(f"the image event's detail: {key} should be {wanted}, not {value!r}")


def _shortened(evidence: ImageEvidence, limit: int) -> ImageEvidence:
    """`evidence` with every text field cut to `limit` characters (the cut is marked)."""
    changes: dict[str, Any] = {
        field.name: value[: max(limit - len(_CUT_MARK), 0)] + _CUT_MARK
        for field in fields(evidence)
        if isinstance(value := getattr(evidence, field.name), str) and len(value) > limit
    }
    return replace(evidence, **changes) if changes else evidence
