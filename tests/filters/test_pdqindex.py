"""The PDQ index agrees with a linear scan: random hashes plus planted near-duplicates at every
distance around the match distance, through the band tables and the small-index scan."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from abhaya.filters.pdqindex import SCAN_BELOW, PdqIndex


def flipped(bits: npt.NDArray[np.uint8], count: int, rng: np.random.Generator) -> bytes:
    """`bits` with `count` distinct bits flipped."""
    unpacked = np.unpackbits(bits)
    unpacked[rng.choice(256, count, replace=False)] ^= 1
    return np.packbits(unpacked).tobytes()


def every_band_flipped(bits: npt.NDArray[np.uint8], count: int, rng: np.random.Generator) -> bytes:
    """`bits` with `count` (16..32) bits flipped, one or two in every 16-bit band: the worst case
    for a multi-index hash, where no band matches exactly."""
    unpacked = np.unpackbits(bits)
    for band in range(16):
        flips = 2 if band < count - 16 else 1
        unpacked[band * 16 + rng.choice(16, flips, replace=False)] ^= 1
    return np.packbits(unpacked).tobytes()


def brute_force(
    hashes: npt.NDArray[np.uint8], bits: bytes, max_distance: int
) -> tuple[int, int] | None:
    """The closest entry by a plain scan, lowest entry number on a tie."""
    differ = np.unpackbits(hashes ^ np.frombuffer(bits, dtype=np.uint8), axis=1)
    distances = differ.sum(axis=1)
    best = int(distances.min())
    return (int(np.argmin(distances)), best) if best <= max_distance else None


@pytest.mark.parametrize("count", [SCAN_BELOW * 5, SCAN_BELOW // 4])
@pytest.mark.parametrize("max_distance", [31, 15, 0])
def test_nearest_agrees_with_a_linear_scan(count: int, max_distance: int) -> None:
    rng = np.random.default_rng(20261201 + count + max_distance)
    hashes = rng.integers(0, 256, (count, 32), dtype=np.uint8)
    # Planted near-duplicates: copies of entries a few bits away, so ties and near misses occur.
    planted = [flipped(hashes[i], int(rng.integers(1, 12)), rng) for i in range(0, count, 97)]
    hashes = np.concatenate([hashes, np.frombuffer(b"".join(planted), np.uint8).reshape(-1, 32)])
    index = PdqIndex.build(hashes)
    queries = [flipped(hashes[int(rng.integers(len(hashes)))], d, rng) for d in range(0, 41)] * 4
    queries += [
        every_band_flipped(hashes[int(rng.integers(len(hashes)))], d, rng) for d in range(16, 33)
    ]
    queries += [rng.integers(0, 256, 32, dtype=np.uint8).tobytes() for _ in range(20)]
    found = 0
    for query in queries:
        expected = brute_force(hashes, query, max_distance)
        assert index.nearest(query, max_distance) == expected
        found += expected is not None
    assert found >= (4 if max_distance == 0 else 40)  # the queries did test matches


def test_entries_are_numbered_in_the_order_given_and_read_back() -> None:
    rng = np.random.default_rng(7)
    hashes = [rng.integers(0, 256, 32, dtype=np.uint8).tobytes() for _ in range(SCAN_BELOW + 10)]
    index = PdqIndex.build(hashes)
    assert len(index) == len(hashes)
    assert index.hash_at(1234) == hashes[1234]
    assert index.nearest(hashes[1234]) == (1234, 0)


def test_equally_close_entries_give_the_first() -> None:
    same = bytes(range(32))
    index = PdqIndex.build([bytes(32)] * 3 + [same, same])
    assert index.nearest(same) == (3, 0)


def test_an_empty_index_finds_nothing() -> None:
    assert PdqIndex.build([]).nearest(bytes(32)) is None


def test_a_complement_is_256_bits_away_not_0() -> None:
    index = PdqIndex.build([b"\xff" * 32])
    assert index.nearest(bytes(32), 31) is None


@pytest.mark.parametrize(
    ("bits", "max_distance", "message"),
    [(bytes(31), 31, "32 bytes"), (bytes(32), 32, "0..31"), (bytes(32), -1, "0..31")],
)
def test_bad_queries_are_errors(bits: bytes, max_distance: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PdqIndex.build([bytes(32)]).nearest(bits, max_distance)


def test_hashes_of_the_wrong_size_are_refused() -> None:
    with pytest.raises(ValueError, match="31 bytes"):
        PdqIndex.build([bytes(32), bytes(31)])
    with pytest.raises(ValueError, match="shape"):
        PdqIndex.build(np.zeros((3, 16), dtype=np.uint8))
