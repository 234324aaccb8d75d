"""The shipped search-query model: its head is verified, and its scores fall where they should.

The queries here are written for these tests (not from the validation set): ways of asking
that no term class names, and innocent searches that share words with risky ones.
"""

from __future__ import annotations

import hashlib
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from abhaya.filters.verdict import Category
from abhaya.models.querymodel import (
    QueryClassifier,
    QueryHead,
    QueryHeadError,
    head_manifest,
)
from abhaya.models.textencoder import TextEncoder


@pytest.fixture(scope="module")
def classifier(encoder: TextEncoder) -> QueryClassifier:
    path, sha256 = head_manifest()
    return QueryClassifier(encoder, QueryHead.load(path, sha256))


# Ways of asking that the rules' words do not cover.
RISKY = [
    ("youngsters without clothing pictures", Category.CSAM),
    ("small kids in the bath private video", Category.CSAM),
    ("i no longer want to exist", Category.SELF_HARM),
    ("which pills can stop my heart", Category.SELF_HARM),
    ("how to disappear forever painlessly", Category.SELF_HARM),
    ("naa jeene ki ichha hai", Category.SELF_HARM),
    ("hot girls leaked private videos", Category.ADULT),
]

INNOCENT = [
    "baby shark video",
    "teen titans go episodes",
    "girls party dress",
    "hot chocolate recipe",
    "how to bathe a newborn baby",
    "young sheldon season 7",
    "naked eye astronomy",
    "how to kill mosquitoes",
    "dead poets society",
    "period pain relief for teenage girls",
    "body parts name in hindi for kids",
    "hindi movie download",
    "nanga parbat height",
    "भूत की कहानी",
    "बच्चों के लिए कविता",
]


@pytest.mark.parametrize(("query", "category"), RISKY)
def test_ways_of_asking_no_list_names_score_over_the_threshold(
    classifier: QueryClassifier, query: str, category: Category
) -> None:
    scores = classifier.score(query)
    assert scores[category] >= classifier.thresholds[category], dict(scores)


@pytest.mark.parametrize("query", INNOCENT)
def test_innocent_searches_that_share_words_stay_under_every_threshold(
    classifier: QueryClassifier, query: str
) -> None:
    scores = classifier.score(query)
    assert all(scores[c] < t for c, t in classifier.thresholds.items()), dict(scores)


def test_scores_are_probabilities_of_the_three_categories(classifier: QueryClassifier) -> None:
    scores = classifier.score("weather in pune")
    assert set(scores) == {Category.CSAM, Category.SELF_HARM, Category.ADULT}
    assert all(0.0 <= value <= 1.0 for value in scores.values())
    # adult counts csam in ("sexual, of anyone"); the rest of the probability is "none".
    assert scores[Category.ADULT] + scores[Category.SELF_HARM] <= 1.0 + 1e-9
    assert scores[Category.ADULT] >= scores[Category.CSAM]


def test_a_query_is_scored_in_the_form_the_rules_read_it(classifier: QueryClassifier) -> None:
    """Case, look-alike letters and separators do not change the score (the cache is keyed on
    the normalised form, so these are also one cache entry)."""
    plain = classifier.score("i no longer want to exist")
    assert classifier.score("I N0 LONGER want-to-exist") == plain


def test_threads_score_at_once_and_agree(classifier: QueryClassifier) -> None:
    queries = [query for query, _ in RISKY] + INNOCENT
    alone = {query: dict(classifier.score(query + " now")) for query in queries}
    with ThreadPoolExecutor(4) as pool:
        together = dict(
            zip(
                queries,
                pool.map(lambda q: dict(classifier.score(q + " now")), queries),
                strict=True,
            )
        )
    assert together == alone


def test_the_version_names_the_encoder_and_the_head(classifier: QueryClassifier) -> None:
    path, sha256 = head_manifest()
    assert classifier.version.startswith("multilingual-e5-small/")
    assert classifier.version.endswith(f"+query-head-{sha256[:12]}")


def test_a_head_that_is_not_the_manifests_is_refused(tmp_path: Path) -> None:
    path, sha256 = head_manifest()
    copy = tmp_path / "head.npz"
    shutil.copyfile(path, copy)
    with copy.open("r+b") as stream:
        stream.seek(100)
        stream.write(b"\x00\x01")
    with pytest.raises(QueryHeadError, match="sha256"):
        QueryHead.load(copy, sha256)
    with pytest.raises(QueryHeadError, match="cannot read"):
        QueryHead.load(tmp_path / "missing.npz", sha256)


def _save_head(path: Path, labels: list[str], rows: int, width: int = 384) -> str:
    """Write a head file of the given labels and weight rows; returns its sha256."""
    np.savez(
        path,
        labels=np.array(labels),
        weights=np.zeros((rows, width), dtype=np.float32),
        bias=np.zeros(rows, dtype=np.float32),
        thresholds=np.array([0.5] * (len(labels) - 1)),
    )
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_head_of_the_wrong_shape_is_refused_even_with_its_own_digest(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    with pytest.raises(QueryHeadError, match="do not fit"):
        QueryHead.load(bad, _save_head(bad, ["none", "csam"], 3))
    with pytest.raises(QueryHeadError, match="are not adult, csam, self_harm"):
        QueryHead.load(bad, _save_head(bad, ["none", "gambling"], 2))
    text = tmp_path / "text.npz"
    text.write_text("not a zip")
    with pytest.raises(QueryHeadError, match="not a query head"):
        QueryHead.load(text, hashlib.sha256(text.read_bytes()).hexdigest())


def test_a_head_for_another_encoder_is_refused(encoder: TextEncoder, tmp_path: Path) -> None:
    path = tmp_path / "wide.npz"
    head = QueryHead.load(path, _save_head(path, ["none", "csam", "self_harm", "adult"], 4, 768))
    with pytest.raises(QueryHeadError, match="reads 768 numbers, not 384"):
        QueryClassifier(encoder, head)
