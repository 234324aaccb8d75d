"""The walk-through's age bands: the starting settings of a new child's profile, as data.

The bands and their settings live in `agebands.toml` (with why each default was chosen), not in
code, so a reviewer or a school changes them without reading Python.  A band becomes a
`policyedit.ProfileSettings` here; nothing is validated (the agent checks the policy whole).
Pure, Qt-free and API-free.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any

from abhaya.ui.console.policyedit import ZERO_TOLERANCE, ProfileSettings, Window


@dataclass(frozen=True, slots=True)
class AgeBand:
    id: str
    categories: Mapping[str, str]
    """Category -> this child's action; csam never (it is always blocked)."""
    safe_search: bool
    images_action: str | None
    chat_grooming_alert: float | None
    schedule: tuple[Window, ...]
    why: str

    def profile(self, name: str, defined: Collection[str]) -> ProfileSettings:
        """A new profile `name` with this band's settings; only the categories the policy
        defines (`defined`) are written, since the agent refuses an override of any other."""
        return ProfileSettings(
            name=name,
            safe_search=self.safe_search,
            overrides={c: a for c, a in self.categories.items() if c in defined},
            schedule=self.schedule,
            images_action=self.images_action,
            chat_grooming_alert=self.chat_grooming_alert,
        )


def _band(raw: Mapping[str, Any]) -> AgeBand:
    categories = {str(k): str(v) for k, v in raw.get("categories", {}).items()}
    if ZERO_TOLERANCE in categories:
        raise ValueError(f"age band {raw['id']}: {ZERO_TOLERANCE} is always blocked; not a default")
    grooming = raw.get("chat", {}).get("grooming_alert")
    return AgeBand(
        id=str(raw["id"]),
        categories=MappingProxyType(categories),
        safe_search=bool(raw.get("safe_search", True)),
        images_action=raw.get("images", {}).get("action"),
        chat_grooming_alert=None if grooming is None else float(grooming),
        schedule=tuple(
            Window(tuple(w["days"]), str(w["start"]), str(w["end"]))
            for w in raw.get("schedule", ())
        ),
        why=str(raw.get("why", "")),
    )


@cache
def age_bands() -> tuple[AgeBand, ...]:
    """The packaged bands, youngest first (the order of the file)."""
    text = files("abhaya.ui.console").joinpath("agebands.toml").read_text(encoding="utf-8")
    return tuple(_band(raw) for raw in tomllib.loads(text)["band"])


def band(band_id: str) -> AgeBand:
    return next(b for b in age_bands() if b.id == band_id)
