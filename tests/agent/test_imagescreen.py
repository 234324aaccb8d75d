"""The image screener: the whole job off the event loop, within a time limit, counted.

Real parts: the shipped classifier, the real decoder and PDQ hasher.  The time limit is
reached by configuration (a limit far shorter than any real check), not by a fake scanner.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import threading

import pytest
from PIL import Image, ImageDraw

from abhaya.agent import imagescreen
from abhaya.agent.imagescreen import ImageScreener
from abhaya.filters.pdqmatch import HashMatcher
from abhaya.filters.policy.compile import ImageScreening
from abhaya.filters.verdict import Action, Reason
from abhaya.models.imagemodel import ImageClassifier
from abhaya.models.imagescan import ImageScanner

RULES = ImageScreening()
NO_LISTS = HashMatcher()


def _picture(shade: int) -> bytes:
    image = Image.new("RGB", (200, 150), (shade, 200, 255 - shade))
    ImageDraw.Draw(image).rectangle((20, 20, 120, 90), fill="navy")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def scanner() -> ImageScanner:
    return ImageScanner(ImageClassifier.load())


def test_a_benign_image_is_allowed_and_counted(scanner: ImageScanner) -> None:
    screener = ImageScreener(scanner)
    try:
        screened = asyncio.run(screener.screen(_picture(10), RULES, NO_LISTS))
    finally:
        screener.close()
    assert (screened.verdict.action, screened.replacement) == (Action.ALLOW, None)
    assert screened.scan.score is not None and screened.scan.width == 200
    assert dict(screener.counts) == {"screened": 1}


def test_a_flagged_image_comes_with_its_blurred_copy_and_pdq_hash(scanner: ImageScanner) -> None:
    data = _picture(20)
    score = scanner.scan(data).score
    assert score is not None and score > 0
    strict = dataclasses.replace(RULES, threshold=score / 2)
    screener = ImageScreener(scanner)
    try:
        screened = screener.screen_now(data, strict, NO_LISTS)
    finally:
        screener.close()
    assert (screened.verdict.action, screened.verdict.reason) == (Action.BLUR, Reason.MODEL)
    assert screened.replacement is not None and b'width="200" height="150"' in screened.replacement
    assert screened.scan.pdq is not None  # the event carries it, lists or not
    assert screener.counts["flagged"] == 1


def test_an_image_that_takes_too_long_is_unscannable_and_blocked(scanner: ImageScanner) -> None:
    screener = ImageScreener(scanner, timeout=1e-6)
    try:
        screened = asyncio.run(screener.screen(_picture(30), RULES, NO_LISTS))
    finally:
        screener.close()
    assert (screened.verdict.action, screened.verdict.reason) == (
        Action.BLOCK,
        Reason.UNSCANNABLE,
    )
    assert "took longer" in screened.unscannable
    assert screened.replacement is not None
    assert screener.counts[f"unscannable: {screened.unscannable}"] == 1


def test_many_images_at_once_are_all_answered(scanner: ImageScanner) -> None:
    """More images than the pool has places: each waits its turn, none is lost."""
    screener = ImageScreener(scanner, workers=2, queue=4)

    async def page() -> list[Action]:
        jobs = [screener.screen(_picture(shade), RULES, NO_LISTS) for shade in range(40, 80)]
        return [screened.verdict.action for screened in await asyncio.gather(*jobs)]

    try:
        actions = asyncio.run(page())
    finally:
        screener.close()
    assert actions == [Action.ALLOW] * 40
    assert screener.counts["screened"] == 40


def test_screening_a_profile_without_a_loaded_model_fails_closed() -> None:
    screener = ImageScreener(ImageScanner(None))
    try:
        screened = screener.screen_now(_picture(50), RULES, NO_LISTS)
        hashes_only = screener.screen_now(
            _picture(50), dataclasses.replace(RULES, enabled=False), NO_LISTS
        )
    finally:
        screener.close()
    assert (screened.verdict.action, screened.verdict.reason) == (
        Action.BLOCK,
        Reason.UNSCANNABLE,
    )
    assert "not loaded" in screened.unscannable
    assert hashes_only.verdict.action is Action.ALLOW


def test_the_memory_of_a_burst_is_given_back_once_the_workers_are_idle(
    scanner: ImageScanner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The trim itself is tested on real memory in tests/agent/test_heap.py; this is when.
    trims: list[str] = []
    real = imagescreen.give_back
    monkeypatch.setattr(
        imagescreen, "give_back", lambda: (trims.append(threading.current_thread().name), real())
    )
    screener = ImageScreener(scanner, give_back_idle=0.2)

    async def page() -> None:
        burst = [screener.screen(_picture(40 + n), RULES, NO_LISTS) for n in range(4)]
        await asyncio.gather(*burst)
        await asyncio.sleep(0.1)
        assert trims == []  # not while a next image may still come
        await screener.screen(_picture(50), RULES, NO_LISTS)  # ... it does: wait again
        await asyncio.sleep(0.15)
        assert trims == []
        await asyncio.sleep(0.3)

    try:
        asyncio.run(page())
    finally:
        screener.close()
    assert len(trims) == 1 and trims[0].startswith("abhaya-images")
