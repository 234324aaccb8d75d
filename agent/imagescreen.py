"""Screening images off the proxy's event loop, in a bounded pool, each within a time limit.

Decoding, classifying and hashing an image takes milliseconds of CPU; on the event loop that
would hold up every other connection.  `ImageScreener.screen` runs the whole job (scan, hash
match, verdict, and the blurred copy or placeholder when one is needed) on one of `WORKERS`
threads (Pillow, onnxruntime and PDQ release the GIL while they work) and waits for it.

Bounded, so a page of 500 images (or a hostile one) cannot queue unbounded work: at most
`QUEUE` images wait or run at once; the others wait for a place.  Each image has `TIMEOUT`
seconds from the moment it asks, waiting included; an image that runs out of time is
"unscannable" and gets the policy's action for that (block by default).

Counts of what was screened, flagged and not checked are kept for the status call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass

from abhaya.agent.memtrim import give_back
from abhaya.filters.imagerules import ImageFindings, image_verdict
from abhaya.filters.pdqmatch import HashHit, HashMatcher
from abhaya.filters.policy.compile import ImageScreening
from abhaya.filters.verdict import Action, Reason, Verdict
from abhaya.models.imagedecode import DecodedImage, Unscannable, decode
from abhaya.models.imagemodel import DEFAULT_THRESHOLD
from abhaya.models.imageredact import blurred, placeholder
from abhaya.models.imagescan import ImageScan, ImageScanner
from abhaya.models.pdq import pdq_hash

log = logging.getLogger(__name__)

_NO_MODEL = "the image model is not loaded (restart the agent)"
WORKERS = 2
QUEUE = 64
TIMEOUT = 5.0
GIVE_BACK_PIXELS = 4_000_000
"""After decoding an image of this many pixels (12 MB as RGB) or more, the freed memory is
given back to the system (`memtrim`): glibc would otherwise keep it."""
GIVE_BACK_IDLE = 1.0
"""Seconds after the last image of a burst (a page's images) when the freed memory of the
burst is given back: glibc holds the workers' decoded pixels and the model's activations
otherwise (bench/images: 238 MiB after 50 images, 198 after the trim)."""


@dataclass(frozen=True, slots=True)
class Screened:
    """The outcome for one image: the verdict, what was found, and the replacement to send
    (an SVG of the same size) when the verdict is blur or block."""

    verdict: Verdict
    scan: ImageScan
    hit: HashHit | None = None
    replacement: bytes | None = None
    unscannable: str = ""
    """Why the image could not be checked; empty when it was."""


class ImageScreener:
    def __init__(
        self,
        scanner: ImageScanner,
        *,
        workers: int = WORKERS,
        queue: int = QUEUE,
        timeout: float = TIMEOUT,
        give_back_idle: float = GIVE_BACK_IDLE,
    ) -> None:
        self._scanner = scanner
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, "abhaya-images")
        self._places = asyncio.Semaphore(queue)
        self._timeout = timeout
        self._busy = 0
        self._give_back_idle = give_back_idle
        self._give_back: asyncio.TimerHandle | None = None
        self.counts: Counter[str] = Counter()
        """"screened", "flagged", "matched", "unscannable: <why>": for the status call."""

    @property
    def model_version(self) -> str:
        classifier = self._scanner.classifier
        return classifier.version if classifier is not None else ""

    async def screen(self, data: bytes, rules: ImageScreening, matcher: HashMatcher) -> Screened:
        """The verdict on `data`, within the time limit; never raises for the image's sake."""
        try:
            screened = await asyncio.wait_for(self._queued(data, rules, matcher), self._timeout)
        except TimeoutError:
            screened = _unchecked(data, rules, f"it took longer than {self._timeout:g} s")
        self._count(screened)
        return screened

    def unchecked(self, data: bytes, rules: ImageScreening, why: str) -> Screened:
        """The outcome for an image that cannot be checked at all (too large, cut short)."""
        screened = _unchecked(data, rules, why)
        self._count(screened)
        return screened

    def screen_now(self, data: bytes, rules: ImageScreening, matcher: HashMatcher) -> Screened:
        """The same job on the calling thread (the CLI; tests)."""
        screened = _job(self._scanner, data, rules, matcher)
        self._count(screened)
        return screened

    def close(self) -> None:
        if self._give_back is not None:
            self._give_back.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _queued(self, data: bytes, rules: ImageScreening, matcher: HashMatcher) -> Screened:
        async with self._places:
            loop = asyncio.get_running_loop()
            self._busy += 1
            try:
                return await loop.run_in_executor(
                    self._pool, _job, self._scanner, data, rules, matcher
                )
            finally:
                self._busy -= 1
                if self._busy == 0:  # the burst may be over: trim once it stays over
                    if self._give_back is not None:
                        self._give_back.cancel()
                    self._give_back = loop.call_later(self._give_back_idle, self._give_back_if_idle)

    def _give_back_if_idle(self) -> None:
        """On the event loop, `give_back_idle` seconds after the last image ended: trim on a
        worker (it takes a millisecond or more) unless a new burst has begun, whose end will
        ask again."""
        self._give_back = None
        if self._busy == 0:
            with contextlib.suppress(RuntimeError):  # the pool was shut down meanwhile
                self._pool.submit(give_back)

    def _count(self, screened: Screened) -> None:
        """Called on the event loop only (or the CLI's one thread): no lock needed."""
        self.counts["screened"] += 1
        if screened.unscannable:
            self.counts[f"unscannable: {screened.unscannable}"] += 1
        elif screened.hit is not None:
            self.counts["matched"] += 1
        elif screened.verdict.reason is Reason.MODEL:  # blurred, blocked or only logged
            self.counts["flagged"] += 1


def _job(
    scanner: ImageScanner, data: bytes, rules: ImageScreening, matcher: HashMatcher
) -> Screened:
    scan = scanner.scan(
        data,
        classify=rules.enabled,
        hash_image=len(matcher) > 0,
        threshold=rules.threshold_or(DEFAULT_THRESHOLD),
    )
    if not scan.cached and scan.width * scan.height >= GIVE_BACK_PIXELS:
        give_back()  # the full-size pixels were freed inside the decoder
    hit = matcher.match(scan.pdq) if scan.pdq is not None else None
    unscannable = scan.unscannable
    if rules.enabled and scanner.classifier is None and not (unscannable or scan.skipped):
        unscannable = _NO_MODEL
    findings = ImageFindings(
        score=scan.score,
        model=scanner.classifier.version if scanner.classifier is not None else "",
        match=hit,
        unscannable=unscannable,
    )
    verdict = image_verdict(findings, rules, DEFAULT_THRESHOLD)
    if verdict.reason is Reason.MODEL and scan.pdq is None and scan.decoded is not None:
        # A flagged image's event carries its PDQ hash too, whether or not lists are loaded.
        scan = dataclasses.replace(scan, pdq=pdq_hash(scan.decoded.image))
    replacement = _replacement(scanner, data, scan, verdict)
    return Screened(verdict, scan, hit, replacement, unscannable)


def _replacement(
    scanner: ImageScanner, data: bytes, scan: ImageScan, verdict: Verdict
) -> bytes | None:
    if verdict.action is Action.BLOCK:
        return placeholder(scan.width, scan.height)
    if verdict.action is not Action.BLUR:
        return None
    decoded = scan.decoded if scan.decoded is not None else _decode_again(data)
    if decoded is None:
        return placeholder(scan.width, scan.height)
    return blurred(decoded.image, scan.width, scan.height)


def _decode_again(data: bytes) -> DecodedImage | None:
    """A cached scan keeps no pixels: a repeated flagged image is decoded again for its copy."""
    try:
        return decode(data)
    except Unscannable:
        return None


def _unchecked(data: bytes, rules: ImageScreening, why: str) -> Screened:
    """`data` empty: the bytes were never held (too large, streamed), so no hash is known; the
    SHA-256 of nothing would look like evidence of an image."""
    scan = ImageScan(hashlib.sha256(data).hexdigest() if data else "", unscannable=why)
    verdict = image_verdict(ImageFindings(unscannable=why), rules, DEFAULT_THRESHOLD)
    return Screened(verdict, scan, None, placeholder(0, 0) if verdict.stops else None, why)
