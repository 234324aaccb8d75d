"""Matching a PDQ hash against hash lists: the distance and quality rules, which list wins,
and what a hit says."""

from __future__ import annotations

import numpy as np
import pytest

from abhaya.filters.pdqmatch import (
    MATCH_DISTANCE,
    MIN_QUALITY,
    HashList,
    HashMatcher,
    MatchStatus,
    PdqHash,
    hamming,
)
from abhaya.filters.verdict import Category

LISTED = bytes(range(0, 64, 2))


def away(bits: bytes, count: int) -> bytes:
    """`bits` with its first `count` bits flipped."""
    number = int.from_bytes(bits, "big") ^ (((1 << count) - 1) << (256 - count))
    return number.to_bytes(32, "big")


def hash_list(name: str, category: Category, *hashes: bytes) -> HashList:
    array = np.frombuffer(b"".join(hashes), dtype=np.uint8).reshape(len(hashes), 32)
    labels = tuple(f"{name}-{number}" for number in range(len(hashes)))
    return HashList(name, f"{name}-v1", category, array, labels)


def test_hex_round_trip_and_validation() -> None:
    pdq = PdqHash.from_hex(LISTED.hex().upper(), quality=80)
    assert pdq.hex == LISTED.hex() and len(pdq.hex) == 64
    assert pdq.quality == 80
    with pytest.raises(ValueError, match="64 hex digits"):
        PdqHash.from_hex("ab" * 31, quality=80)
    with pytest.raises(ValueError):
        PdqHash.from_hex("zz" * 32, quality=80)
    with pytest.raises(ValueError, match="32 bytes"):
        PdqHash(bytes(16), 80)


def test_hamming() -> None:
    assert hamming(LISTED, away(LISTED, 31)) == 31
    assert hamming(bytes(32), b"\xff" * 32) == 256
    with pytest.raises(ValueError):
        hamming(bytes(32), bytes(31))


@pytest.mark.parametrize(
    ("distance", "quality", "status"),
    [
        (0, 100, MatchStatus.MATCH),
        (MATCH_DISTANCE, MIN_QUALITY, MatchStatus.MATCH),
        (MATCH_DISTANCE + 1, 100, MatchStatus.NO_MATCH),
        (0, MIN_QUALITY - 1, MatchStatus.LOW_QUALITY),
    ],
)
def test_the_match_rule(distance: int, quality: int, status: MatchStatus) -> None:
    matcher = HashMatcher.build([hash_list("known", Category.CSAM, bytes(32), LISTED)])
    check = matcher.check(PdqHash(away(LISTED, distance), quality))
    assert check.status is status
    assert (check.hit is not None) is (status is MatchStatus.MATCH)
    assert matcher.match(PdqHash(away(LISTED, distance), quality)) == check.hit


def test_a_hit_names_the_list_its_version_and_the_listed_hash() -> None:
    matcher = HashMatcher.build([hash_list("known", Category.CSAM, bytes(32), LISTED)])
    hit = matcher.match(PdqHash(away(LISTED, 5), 90))
    assert hit is not None
    assert (hit.list_name, hit.list_version, hit.category) == ("known", "known-v1", "csam")
    assert (hit.label, hit.listed_hex, hit.distance) == ("known-1", LISTED.hex(), 5)


def test_a_zero_tolerance_list_wins_over_a_closer_hit_elsewhere() -> None:
    adult = hash_list("adult-list", Category.ADULT, LISTED)
    csam = hash_list("csam-list", Category.CSAM, away(LISTED, 20))
    hit = HashMatcher.build([adult, csam]).match(PdqHash(LISTED, 90))
    assert hit is not None and (hit.list_name, hit.distance) == ("csam-list", 20)


def test_otherwise_the_closest_hit_wins_and_the_earlier_list_on_a_tie() -> None:
    far = hash_list("far", Category.ADULT, away(LISTED, 10))
    near = hash_list("near", Category.VIOLENCE, away(LISTED, 3))
    same = hash_list("same", Category.GAMBLING, away(LISTED, 3))
    hit = HashMatcher.build([far, near, same]).match(PdqHash(LISTED, 90))
    assert hit is not None and (hit.list_name, hit.distance) == ("near", 3)


def test_an_empty_matcher_matches_nothing() -> None:
    assert HashMatcher().check(PdqHash(LISTED, 100)).status is MatchStatus.NO_MATCH
    assert len(HashMatcher()) == 0
