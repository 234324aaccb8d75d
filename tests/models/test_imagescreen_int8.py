"""The int8 screen in front of the float image model (`ImageClassifier.screen`): pinned bytes or
nothing, close to the float model on benign photographs, and never the one that decides near a
threshold: at or above a threshold's floor, and for every flagged image, the score is the float
model's.  (Explicit images are never used: the positive path is reached by a threshold.)"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
from PIL import Image

from abhaya.models.imagedecode import DecodedImage, decode
from abhaya.models.imagemodel import (
    DEFAULT_THRESHOLD,
    SCREEN_MARGIN,
    ImageClassifier,
    screen_floor,
)
from abhaya.models.imagescan import ImageScanner
from abhaya.models.manifest import ModelVerificationError, default_manifest
from tests.models.benignimages import encoded, skimage_photos


@pytest.fixture(scope="module")
def classifier() -> ImageClassifier:
    return ImageClassifier.load()


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _decoded(picture: Image.Image) -> DecodedImage:
    decoded = decode(encoded(picture.convert("RGB").resize((1024, 768)), "JPEG", quality=85))
    assert decoded is not None
    return decoded


def test_the_floor_is_the_margin_below_the_threshold() -> None:
    assert screen_floor(DEFAULT_THRESHOLD) == pytest.approx(0.0262, abs=1e-4)
    for threshold in (0.05, 0.3, 0.8, 0.99):
        floor = screen_floor(threshold)
        assert _logit(threshold) - _logit(floor) == pytest.approx(SCREEN_MARGIN, abs=1e-6)


def test_the_screen_stays_well_inside_the_margin_on_photographs(
    classifier: ImageClassifier,
) -> None:
    """The margin's basis: a rebuilt screen that strays this far would let near-threshold
    images be judged by the copy; the copy must stay within half the margin here."""
    worst = 0.0
    for _, photo in skimage_photos():
        image = _decoded(photo)
        quick = classifier.screen(image, threshold=0.9999)  # floor 0.87: the copy answers
        assert not quick.exact
        worst = max(worst, abs(_logit(classifier.score(image)) - _logit(quick.value)))
    assert worst < SCREEN_MARGIN / 2


def test_at_or_above_the_floor_the_float_model_scores(classifier: ImageClassifier) -> None:
    image = _decoded(dict(skimage_photos())["astronaut"])
    exact = classifier.score(image)
    near = classifier.screen(image, threshold=exact * 1.01)  # floor far below the copy's score
    assert near.exact and near.value == exact
    far = classifier.screen(image, threshold=0.9999)
    assert not far.exact and far.value < screen_floor(0.9999)


def test_a_flagged_image_always_has_the_float_models_score(classifier: ImageClassifier) -> None:
    """The positive path, by a threshold under the image's float score."""
    scanner = ImageScanner(classifier, cache_entries=8)
    data = encoded(dict(skimage_photos())["coffee"].resize((1024, 768)), "JPEG", quality=85)
    decoded = decode(data)
    assert decoded is not None
    exact = classifier.score(decoded)
    scan = scanner.scan(data, threshold=exact * 0.9)
    assert scan.exact and scan.score == exact


def test_a_cached_screen_score_is_scored_again_for_a_lower_threshold(
    classifier: ImageClassifier,
) -> None:
    scanner = ImageScanner(classifier, cache_entries=8)
    data = encoded(dict(skimage_photos())["astronaut"].resize((1024, 768)), "JPEG", quality=85)
    first = scanner.scan(data, threshold=0.9999)
    assert not first.exact and not first.cached
    again = scanner.scan(data, threshold=0.9999)
    assert again.cached and not again.exact
    lower = scanner.scan(data, threshold=(first.score or 0) * 1.01)
    assert lower.exact and not lower.cached
    plain = scanner.scan(data)  # no threshold: the float model's score, now cached
    assert plain.cached and plain.exact and plain.score == lower.score


def _copied_manifest(tmp_path: Path) -> tuple[Path, Path]:
    manifest = tmp_path / "manifest.toml"
    shutil.copy(default_manifest(), manifest)
    (tmp_path / "data").mkdir()
    screen = tmp_path / "data" / "open_nsfw_screen_int8.onnx"
    shutil.copy(default_manifest().parent / "data" / "open_nsfw_screen_int8.onnx", screen)
    return manifest, screen


def test_a_screen_file_that_is_not_the_pinned_bytes_is_refused(tmp_path: Path) -> None:
    manifest, screen = _copied_manifest(tmp_path)
    assert ImageClassifier.load(manifest).screened  # the copy itself loads
    data = bytearray(screen.read_bytes())
    data[len(data) // 2] ^= 0x01
    screen.write_bytes(bytes(data))
    with pytest.raises(ModelVerificationError, match="SHA-256"):
        ImageClassifier.load(manifest)


def test_a_missing_screen_file_is_refused(tmp_path: Path) -> None:
    manifest, screen = _copied_manifest(tmp_path)
    screen.unlink()
    with pytest.raises(ModelVerificationError, match="cannot be read"):
        ImageClassifier.load(manifest)


def test_without_a_screen_in_the_manifest_the_float_model_scores_everything(
    tmp_path: Path, classifier: ImageClassifier
) -> None:
    manifest = tmp_path / "manifest.toml"
    text = default_manifest().read_text(encoding="utf-8")
    manifest.write_text(text[: text.index("[image-screen]")], encoding="utf-8")
    plain = ImageClassifier.load(manifest)
    assert not plain.screened
    image = _decoded(dict(skimage_photos())["astronaut"])
    score = plain.screen(image, threshold=0.9999)
    assert score.exact and score.value == classifier.score(image)
