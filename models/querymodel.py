"""The search-query model: the shared text encoder with a small head for csam, self_harm, adult.

The head is a multinomial logistic regression over the encoder's 384-number embedding
(``models/data/query_head.npz``, trained by ``training/query_head/train.py`` on generated
queries, never on the validation set).  It is a few kilobytes of numpy, so it lives outside the
ONNX graph: the encoder stays one file that the chat classifier shares, and a retrained head
is a new small file with a new sha256 in ``models/manifest.toml`` (``[query-head]``).

It implements `abhaya.filters.querymodel.QueryScorer`; the filters decide what to do with the
scores.  Queries are scored in the form the rules read them (`abhaya.filters.textnorm`):
lower case, look-alike letters and leetspeak undone, separators dropped.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from abhaya.filters.querymodel import MODEL_CATEGORIES
from abhaya.filters.textnorm import normalize
from abhaya.filters.verdict import Category
from abhaya.models.heads import check_width, read_head
from abhaya.models.manifest import shipped_file
from abhaya.models.textencoder import TextEncoder, shared_encoder

__all__ = ["QueryClassifier", "QueryHead", "QueryHeadError", "load_query_model"]

NO_RISK = "none"
_CACHED_QUERIES = 4096


class QueryHeadError(Exception):
    """The head file is missing, altered, or not the shape the code expects."""


@dataclass(frozen=True, slots=True)
class QueryHead:
    labels: tuple[str, ...]
    weights: npt.NDArray[np.float64]  # (labels, dim)
    bias: npt.NDArray[np.float64]  # (labels,)
    thresholds: Mapping[Category, float]
    sha256: str

    @classmethod
    def load(cls, path: Path, sha256: str) -> QueryHead:
        """Read the head, refusing a file whose digest is not the manifest's."""
        head = read_head(path, sha256, QueryHeadError, "query head")
        labels = head.labels
        if labels[0] != NO_RISK or head.thresholds.shape != (len(labels) - 1,):
            raise QueryHeadError(f"{path}: labels {labels} do not fit thresholds")
        if sorted(labels[1:]) != sorted(MODEL_CATEGORIES):
            expected = ", ".join(sorted(MODEL_CATEGORIES))
            raise QueryHeadError(f"{path}: labels {labels[1:]} are not {expected}")
        scored = {
            Category(label): float(t) for label, t in zip(labels[1:], head.thresholds, strict=True)
        }
        return cls(labels, head.weights, head.bias, MappingProxyType(scored), sha256)

    def probabilities(self, embeddings: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Softmax over the labels, one row per embedding."""
        logits: npt.NDArray[np.float64] = embeddings.astype(np.float64) @ self.weights.T + self.bias
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float64)


class QueryClassifier:
    """Scores search queries; safe to call from several threads (the encoder's session is, and
    the small cache of recent queries has its own lock: a results page, its suggestions and a
    reload ask about the same query several times)."""

    def __init__(self, encoder: TextEncoder, head: QueryHead) -> None:
        check_width(head.weights, encoder.dim, QueryHeadError, "the head reads")
        self._encoder = encoder
        self._head = head
        self._recent: OrderedDict[str, Mapping[Category, float]] = OrderedDict()
        self._lock = threading.Lock()
        self.version = f"{encoder.version}+query-head-{head.sha256[:12]}"

    @property
    def thresholds(self) -> Mapping[Category, float]:
        return self._head.thresholds

    def score(self, text: str) -> Mapping[Category, float]:
        key = normalize(text)
        with self._lock:
            found = self._recent.get(key)
            if found is not None:
                self._recent.move_to_end(key)
                return found
        row = self._head.probabilities(self._encoder.embed([key], kind="query"))[0]
        probability = {
            Category(label): float(p)
            for label, p in zip(self._head.labels[1:], row[1:], strict=True)
        }
        # csam is sexual material too: the adult score is "sexual, of anyone", so a query the
        # head finds sexual but cannot place between the two is still judged adult.
        probability[Category.ADULT] += probability[Category.CSAM]
        scores = MappingProxyType(probability)
        with self._lock:
            self._recent[key] = scores
            if len(self._recent) > _CACHED_QUERIES:
                self._recent.popitem(last=False)
        return scores


def head_manifest() -> tuple[Path, str]:
    """The shipped head's path and its sha256 from ``models/manifest.toml``."""
    return shipped_file("query-head")


@cache
def load_query_model(cache_dir: Path) -> QueryClassifier:
    """The shipped query model, loaded once per process and cache folder (the encoder's ONNX
    file is built into `cache_dir` the first time)."""
    path, sha256 = head_manifest()
    return QueryClassifier(shared_encoder(cache_dir), QueryHead.load(path, sha256))
