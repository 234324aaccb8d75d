"""The image event's detail: written by the proxy, read by `abhaya report`, one set of keys."""

from __future__ import annotations

import hashlib
import json

import pytest

from abhaya.agent.imageevidence import MAX_DETAIL_CHARS, ImageEvidence, ImageEvidenceError
from abhaya.agent.store.events import MAX_FIELD_CHARS, storable_text

IMAGE_BYTES = bytes(range(256)) * 8  # generated stand-in for an image's bytes


def a_match() -> ImageEvidence:
    return ImageEvidence(
        sha256=hashlib.sha256(IMAGE_BYTES).hexdigest(),
        pdq="f" * 32 + "0" * 32,
        pdq_quality=87,
        distance=6,
        list_name="test-list",
        list_version="2026-11-30",
        listed_hash="e" * 32 + "0" * 32,
        label="entry 17",
        page="https://forum.example/thread/9",
        width=640,
        height=480,
        format="jpeg",
    )


def test_a_match_round_trips_under_the_agreed_keys() -> None:
    evidence = a_match()
    text = evidence.to_json()
    assert ImageEvidence.from_json(text) == evidence
    record = json.loads(text)
    assert set(record) == {
        "sha256", "pdq", "pdq_quality", "distance", "list", "list_version", "listed_hash",
        "label", "score", "model", "page", "width", "height", "format",
    }  # fmt: skip
    assert (record["list"], record["distance"], record["score"]) == ("test-list", 6, None)


def test_a_model_only_detail_with_missing_and_unknown_keys_reads() -> None:
    text = json.dumps({"sha256": "ab" * 32, "score": 1, "model": "nsfw-7", "future_key": [1]})
    evidence = ImageEvidence.from_json(text)
    assert evidence == ImageEvidence(sha256="ab" * 32, score=1.0, model="nsfw-7")
    assert evidence.distance is None and evidence.list_name == "" and evidence.pdq == ""
    assert ImageEvidence.from_json("{}") == ImageEvidence()
    assert ImageEvidence.from_json('{"distance": null}') == ImageEvidence()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"distance": "6"}', "distance should be an integer"),
        ('{"distance": true}', "distance should be an integer"),
        ('{"score": "high"}', "score should be a number"),
        ('{"list": 3}', "list should be a string"),
        ('{"width": 1.5}', "width should be an integer"),
        ("[1, 2]", "not a JSON object"),
        ("", "not JSON"),
        ('{"sha256": "ab"', "not JSON"),
    ],
)
def test_a_wrong_detail_is_refused_in_words(text: str, words: str) -> None:
    with pytest.raises(ImageEvidenceError, match=words):
        ImageEvidence.from_json(text)


@pytest.mark.parametrize(
    "page",
    [
        "https://forum.example/" + "p" * 20_000,
        "https://forum.example/" + "\u0001" * 5_000,  # 6 characters each when escaped
        "https://forum.example/" + "\u0939" * 5_000 + "\udcdf",  # Hindi and an undecodable byte
    ],
)
def test_long_or_odd_text_is_shortened_so_the_store_keeps_the_json_whole(page: str) -> None:
    text = ImageEvidence(sha256="ab" * 32, page=page, label=page).to_json()
    assert len(text) <= MAX_DETAIL_CHARS < MAX_FIELD_CHARS
    assert storable_text(text) == text  # nothing for the store to cut or escape
    back = ImageEvidence.from_json(text)
    assert back.sha256 == "ab" * 32
    assert back.page.startswith("https://forum.example/") and back.page.endswith("...")
