"""Known-image matching: a PDQ hash against the hash lists a policy names.

The match rule is ThreatExchange's PDQ guidance (facebook/ThreatExchange, `pdq/README.md`):
two hashes are the same image when their Hamming distance is 31 or less, and a hash whose
quality is under 50 is too featureless (flat, nearly blank images) to be matched at all, since
such images collide with each other and would raise false alarms.

This module is pure (numpy only): the hashes themselves are computed by `abhaya.models.pdq`
from a decoded image, and the lists are read by `abhaya.filters.lists.hashlist`.  A caller can
tell the three outcomes apart (`HashCheck.status`): a match, no match, or a hash of too low a
quality to decide either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from abhaya.filters.pdqindex import PdqIndex
from abhaya.filters.verdict import ZERO_TOLERANCE, Category

__all__ = [
    "MATCH_DISTANCE",
    "MIN_QUALITY",
    "HashCheck",
    "HashHit",
    "HashList",
    "HashMatcher",
    "MatchStatus",
    "PdqHash",
    "hamming",
]

MATCH_DISTANCE = 31
"""Largest Hamming distance (of 256 bits) at which two PDQ hashes are the same image:
ThreatExchange's PDQ guidance, chosen there for a low false-positive rate at good recall on
resized, re-encoded and lightly cropped copies."""
MIN_QUALITY = 50
"""Lowest PDQ quality (0..100, the hash's gradient energy) that may be matched: ThreatExchange's
PDQ guidance; images under it are too flat for their hashes to mean anything."""


@dataclass(frozen=True, slots=True)
class PdqHash:
    """A 256-bit PDQ hash with the quality the hasher gave it."""

    bits: bytes
    """32 bytes, most significant first: `bits.hex()` is the hash as ThreatExchange writes it."""
    quality: int

    def __post_init__(self) -> None:
        if len(self.bits) != 32:
            raise ValueError(f"a PDQ hash has 32 bytes, not {len(self.bits)}")

    @property
    def hex(self) -> str:
        """The 64 lowercase hex digits lists use."""
        return self.bits.hex()

    @classmethod
    def from_hex(cls, text: str, *, quality: int) -> PdqHash:
        """Parse 64 hex digits (either case); ValueError for anything else."""
        text = text.strip()
        if len(text) != 64:
            raise ValueError(f"a PDQ hash is 64 hex digits, not {len(text)}")
        return cls(bytes.fromhex(text), quality)


def hamming(a: bytes, b: bytes) -> int:
    """Bits that differ between two hashes of the same length."""
    if len(a) != len(b):
        raise ValueError(f"hashes of {len(a)} and {len(b)} bytes cannot be compared")
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


@dataclass(frozen=True, eq=False)
class HashList:
    """One loaded list of known-image hashes, as the policy names it."""

    name: str
    version: str
    category: Category
    hashes: npt.NDArray[np.uint8]
    """(n, 32): the listed hashes, in file order."""
    labels: tuple[str, ...]
    """One a hash ("" when the line had none)."""
    source: str = ""
    """The file it came from, for messages."""

    def __post_init__(self) -> None:
        if len(self.labels) != len(self.hashes):
            raise ValueError(f"{len(self.hashes)} hashes but {len(self.labels)} labels")


@dataclass(frozen=True, slots=True)
class HashHit:
    """A listed hash that an image matched: everything an evidence record needs."""

    list_name: str
    list_version: str
    category: Category
    label: str
    listed_hex: str
    distance: int


class MatchStatus(StrEnum):
    MATCH = "match"
    NO_MATCH = "no_match"
    LOW_QUALITY = "low_quality"
    """The hash is under `MIN_QUALITY`: not matched, and not known to be innocent either."""


@dataclass(frozen=True, slots=True)
class HashCheck:
    status: MatchStatus
    hit: HashHit | None = None


@dataclass(frozen=True, eq=False)
class HashMatcher:
    """All of a policy's hash lists, each with its own index, ready for `check`."""

    lists: tuple[HashList, ...] = ()
    _indexes: tuple[PdqIndex, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def build(cls, lists: Sequence[HashList]) -> HashMatcher:
        """Index every list (about 0.3 s a million hashes); zero-tolerance lists are checked
        first, the others in the order given."""
        ordered = sorted(lists, key=lambda item: item.category != ZERO_TOLERANCE)
        return cls(tuple(ordered), tuple(PdqIndex.build(item.hashes) for item in ordered))

    def __len__(self) -> int:
        """Hashes across all lists."""
        return sum(len(index) for index in self._indexes)

    def check(self, pdq: PdqHash) -> HashCheck:
        """Whether `pdq` is on a list.  A zero-tolerance (csam) list's hit wins over any other;
        otherwise the closest hit, the earlier list on a tie."""
        if pdq.quality < MIN_QUALITY:
            return HashCheck(MatchStatus.LOW_QUALITY)
        best: tuple[int, int, int] | None = None  # distance, list position, entry
        for position, (item, index) in enumerate(zip(self.lists, self._indexes, strict=True)):
            found = index.nearest(pdq.bits, MATCH_DISTANCE)
            if found is None:
                continue
            entry, distance = found
            if item.category == ZERO_TOLERANCE:
                return HashCheck(MatchStatus.MATCH, _hit(item, index, entry, distance))
            if best is None or distance < best[0]:
                best = (distance, position, entry)
        if best is None:
            return HashCheck(MatchStatus.NO_MATCH)
        distance, position, entry = best
        hit = _hit(self.lists[position], self._indexes[position], entry, distance)
        return HashCheck(MatchStatus.MATCH, hit)

    def match(self, pdq: PdqHash) -> HashHit | None:
        """The hit of `check`; None for no match *and* for too low a quality (use `check`
        where the two must be told apart)."""
        return self.check(pdq).hit


def _hit(item: HashList, index: PdqIndex, entry: int, distance: int) -> HashHit:
    return HashHit(
        list_name=item.name,
        list_version=item.version,
        category=item.category,
        label=item.labels[entry],
        listed_hex=index.hash_at(entry).hex(),
        distance=distance,
    )
