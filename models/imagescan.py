"""Everything Abhaya learns from one image's bytes, in one call: the proxy's and the CLI's.

`ImageScanner.scan` hashes the bytes (SHA-256), decodes them safely (`imagedecode`), scores
them with the classifier (`imagemodel`) and computes their PDQ hash (`pdq`).  What it found is
kept in a bounded cache keyed by the SHA-256, so an image a page shows twice, or every page of
a site shows (a logo, an avatar), is decoded and classified once.  Matching the PDQ hash
against the policy's lists is left to the caller: lists change with the policy, the image does
not.

Thread-safe: the proxy calls it from several worker threads at once.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace

from abhaya.models.imagecache import ImageCache
from abhaya.models.imagedecode import DecodedImage, Unscannable, decode
from abhaya.models.imagemodel import ImageClassifier, Score, screen_floor
from abhaya.models.pdq import PdqHash, pdq_hash

CACHE_ENTRIES = 4096
"""Images remembered; an entry is a few hundred bytes (never the pixels)."""


@dataclass(frozen=True, slots=True)
class ImageScan:
    """What was learnt from one image; `decoded` is the image itself, when it was decoded now
    (the caller may need it for a blurred copy; it is never cached or stored)."""

    sha256: str
    format: str = ""
    width: int = 0
    height: int = 0
    score: float | None = None
    """The classifier's score; None when it was not asked or the image was too small."""
    exact: bool = True
    """False: `score` is the int8 screen's, known to be well below the threshold it was asked
    for (`ImageClassifier.screen`), and only below that threshold's floor does it stand."""
    pdq: PdqHash | None = None
    skipped: bool = False
    """Smaller than 64×64: too small to judge, and allowed."""
    unscannable: str = ""
    """Why the bytes could not be checked; empty when they were."""
    cached: bool = False
    ms: float = 0.0
    decoded: DecodedImage | None = field(default=None, compare=False, repr=False)


class ImageScanner:
    def __init__(self, classifier: ImageClassifier | None, cache_entries: int = CACHE_ENTRIES):
        """`classifier` None: images are only hashed (no profile screens them)."""
        self.classifier = classifier
        self._cache: ImageCache[ImageScan] = ImageCache(cache_entries)

    def scan(
        self,
        data: bytes,
        *,
        classify: bool = True,
        hash_image: bool = True,
        threshold: float | None = None,
    ) -> ImageScan:
        """Check `data`; never raises for bad bytes (they come back `unscannable`).

        `threshold`: the score at which the caller flags; the classifier may then answer from
        its int8 screen when the image is far below it.  None: the float model's own score.
        """
        started = time.perf_counter()
        digest = hashlib.sha256(data).digest()
        classify = classify and self.classifier is not None
        known = self._cache.get(digest)
        if known is not None and _covers(known, classify, hash_image, threshold):
            return replace(known, cached=True, ms=_ms_since(started))
        found = self._scan(data, digest.hex(), classify, hash_image, threshold)
        self._cache.put(digest, replace(found, decoded=None))
        return replace(found, ms=_ms_since(started))

    def _scan(
        self,
        data: bytes,
        sha256: str,
        classify: bool,
        hash_image: bool,
        threshold: float | None,
    ) -> ImageScan:
        try:
            decoded = decode(data)
        except Unscannable as error:
            return ImageScan(sha256, unscannable=error.reason)
        if decoded is None:
            return ImageScan(sha256, skipped=True)
        score = None
        if classify and self.classifier is not None:
            score = (
                Score(self.classifier.score(decoded), exact=True)
                if threshold is None
                else self.classifier.screen(decoded, threshold)
            )
        return ImageScan(
            sha256,
            format=decoded.format,
            width=decoded.width,
            height=decoded.height,
            score=score.value if score is not None else None,
            exact=score.exact if score is not None else True,
            pdq=pdq_hash(decoded.image) if hash_image else None,
            decoded=decoded,
        )


def _covers(known: ImageScan, classify: bool, hash_image: bool, threshold: float | None) -> bool:
    """Whether a cached scan answers this call (it may lack the score or the hash, or hold the
    int8 screen's score where this call needs the float model's)."""
    if known.unscannable or known.skipped:
        return True
    score = known.score
    if classify and score is not None and not known.exact:
        stands = threshold is not None and score < screen_floor(threshold)
        if not stands:  # the screen's score does not answer for this threshold
            return False
    return (known.score is not None or not classify) and (known.pdq is not None or not hash_image)


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
