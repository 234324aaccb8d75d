"""Nearest PDQ hash within a Hamming radius, among up to millions, in well under a millisecond.

A multi-index hash (Norouzi, Punjani and Fleet, "Fast search in Hamming space with multi-index
hashing", CVPR 2012), in numpy only, with the 16 bands of 16 bits that ThreatExchange's own
PDQ index uses (`pdq/README-MIH.md`).  Two hashes at distance d <= 16 * (r + 1) - 1 differ by
at most r bits in at least one band (pigeonhole), so for PDQ's match distance 31 (r = 1) every
match shares a band with the query up to one flipped bit: 17 keys a band, 272 bucket look-ups.
Each band keeps its entries sorted by the band's value with a 65,537-entry offsets table, so a
look-up is two array reads, and the buckets are gathered in one vectorised step.  With random
hashes a bucket holds n / 65,536 entries (~15 at 1M), so about 4,000 candidates are checked by
XOR and popcount on 64-bit words, and the closest one is the answer.  The result is exact, not
approximate: it agrees with a linear scan.

faiss-cpu's `IndexBinaryMultiHash` does the same job but was measured here at 1.5 ms p50,
350 MiB and 3.8 s to build for 1M hashes when set to be exact at distance 31 (`nflip=1`),
against 0.22 ms, ~108 MiB and 0.5 s for this (`bench/hashes/README.md`).

Memory: the hashes (32 bytes each) plus 16 permutations of uint32 (64 bytes each) and 16
offsets tables (8 MB), so ~100 MB for 1M hashes.  A small index (`SCAN_BELOW` entries or fewer)
skips the tables and scans, which is as fast at that size and costs no fixed 8 MB.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["BANDS", "MAX_INDEXED_DISTANCE", "SCAN_BELOW", "PdqIndex", "as_hash_array"]

BANDS = 16
"""Bands of 16 bits a hash is cut into."""
MAX_INDEXED_DISTANCE = 2 * BANDS - 1
"""The largest distance the band tables answer exactly (one flipped bit a band: 31)."""
SCAN_BELOW = 4096
"""Indexes of this many entries or fewer are scanned: as fast, and no tables to build."""

_KEYS = 1 << 16
# Probe masks: the band's own value, then each single-bit flip.
_MASKS = np.array([0, *(1 << bit for bit in range(16))], dtype=np.int64)

HashArray = npt.NDArray[np.uint8]


def as_hash_array(hashes: Sequence[bytes] | HashArray) -> HashArray:
    """An (n, 32) C-contiguous uint8 array of hashes; anything else is a ValueError."""
    if isinstance(hashes, np.ndarray):
        array = np.ascontiguousarray(hashes, dtype=np.uint8)
    else:
        for number, item in enumerate(hashes):
            if len(item) != 32:
                raise ValueError(f"hash {number} has {len(item)} bytes, not 32")
        joined = b"".join(hashes)
        array = np.frombuffer(joined, dtype=np.uint8).reshape(len(hashes), 32).copy()
    if array.ndim != 2 or array.shape[1] != 32:
        raise ValueError(f"hashes must have shape (n, 32), not {array.shape}")
    return array


class PdqIndex:
    """An immutable index of 256-bit hashes; entries are numbered in the order given."""

    __slots__ = ("_ids", "_offsets", "_words")

    def __init__(
        self,
        words: npt.NDArray[np.uint64],
        offsets: npt.NDArray[np.int64] | None,
        ids: npt.NDArray[np.uint32] | None,
    ) -> None:
        self._words = words
        self._offsets = offsets
        self._ids = ids

    @classmethod
    def build(cls, hashes: Sequence[bytes] | HashArray) -> PdqIndex:
        """Index the hashes (32 bytes each; an (n, 32) uint8 array is taken without copying
        the hashes a second time).  About 0.3 s for 1M."""
        array = as_hash_array(hashes)
        # (4, n): each hash as four 64-bit words, one row per word, so that a gather and the
        # popcount run along contiguous rows (4x faster than on (n, 4) rows of four).
        words = np.ascontiguousarray(array.view(np.uint64).T)
        count = len(array)
        if count <= SCAN_BELOW:
            return cls(words, None, None)
        bands = array.view(">u2")  # (n, 16): band b is bytes 2b and 2b + 1, big-endian
        offsets = np.zeros((BANDS, _KEYS + 1), dtype=np.int64)
        ids = np.empty((BANDS, count), dtype=np.uint32)
        for band in range(BANDS):
            column = bands[:, band]
            ids[band] = np.argsort(column, kind="stable")
            np.cumsum(np.bincount(column, minlength=_KEYS), out=offsets[band, 1:])
        return cls(words, offsets, ids)

    def __len__(self) -> int:
        return int(self._words.shape[1])

    def hash_at(self, entry: int) -> bytes:
        """The 32 bytes of entry number `entry`, as given to `build`."""
        return self._words[:, entry].tobytes()

    def nearest(self, bits: bytes, max_distance: int = 31) -> tuple[int, int] | None:
        """(entry, distance) of the closest entry at `max_distance` or less, the lowest entry
        number among equally close ones; None when there is none.

        Raises ValueError for a hash that is not 32 bytes, or a `max_distance` over 31 (the
        band tables are exact only up to there; PDQ's match distance is 31)."""
        if len(bits) != 32:
            raise ValueError(f"a PDQ hash has 32 bytes, not {len(bits)}")
        if not 0 <= max_distance <= MAX_INDEXED_DISTANCE:
            raise ValueError(f"max_distance must be 0..{MAX_INDEXED_DISTANCE}, not {max_distance}")
        if not len(self):
            return None
        query = np.frombuffer(bits, dtype=np.uint64)[:, None]
        if self._offsets is None or self._ids is None:
            candidates = None
            counts = np.bitwise_count(self._words ^ query)
        else:
            candidates = self._candidates(bits, 1 if max_distance < BANDS else len(_MASKS))
            if not len(candidates):
                return None
            counts = np.bitwise_count(np.take(self._words, candidates, axis=1) ^ query)
        distances = counts.sum(axis=0, dtype=np.uint16)  # not uint8: 256 is possible
        best = int(distances.min())
        if best > max_distance:
            return None
        at_best = np.flatnonzero(distances == best)
        entry = int(at_best[0]) if candidates is None else int(candidates[at_best].min())
        return entry, best

    def _candidates(self, bits: bytes, probes: int) -> npt.NDArray[np.uint32]:
        """Entries sharing a band with `bits`, exactly (`probes` 1) or up to one flipped bit (17);
        duplicates are kept: checking an entry twice is cheaper than removing the repeats."""
        assert self._offsets is not None and self._ids is not None
        bands = np.frombuffer(bits, dtype=">u2").astype(np.int64)
        keys = bands[:, None] ^ _MASKS[None, :probes]  # (16, probes)
        rows = np.arange(BANDS)[:, None]
        starts = self._offsets[rows, keys].ravel()
        lengths = self._offsets[rows, keys + 1].ravel() - starts
        total = int(lengths.sum())
        if not total:
            return np.empty(0, dtype=np.uint32)
        # Flat positions in `ids` of every bucket's entries, without a Python loop: each
        # bucket's first position repeated over its length, plus a running count within it.
        firsts = starts + np.repeat(np.arange(BANDS) * len(self), probes)
        before = np.cumsum(lengths) - lengths
        positions = np.repeat(firsts - before, lengths) + np.arange(total)
        return self._ids.ravel()[positions]
