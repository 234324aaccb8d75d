"""The search-query model's seam: what `decide()` asks of it and how scores become judgements.

The rules (`abhaya.filters.searchrules`) stay first and explainable; the model is a second
opinion: it has the word on searches they leave undecided, may raise what they found to csam,
and is not asked where a protective word spoke (see `abhaya.filters.decide`).  `filters/`
stays pure and free of onnxruntime: the agent and `abhaya check` load a scorer
(`abhaya.models.querymodel`) and hand it to the policy compiler, so both decide with the same
model.

A scorer that raises is not caught here: in the proxy the fail-closed pipeline blocks the
request, in `abhaya check` the error is reported.  An unsure model never passes silently what
it could not score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from abhaya.filters.verdict import Category

__all__ = ["MIN_WORDS", "MODEL_CATEGORIES", "ModelMatch", "QueryModel", "QueryScorer"]

MIN_WORDS = 2
"""Shorter queries are not scored (see `QueryModel.judge`)."""

MODEL_CATEGORIES = frozenset({Category.CSAM, Category.SELF_HARM, Category.ADULT})
"""What the query model scores; a threshold for any other category is refused."""


class QueryScorer(Protocol):
    """A text classifier for search queries: a probability per category in `MODEL_CATEGORIES`."""

    @property
    def version(self) -> str:
        """Names the encoder and head, for the verdict and the event log."""
        ...

    @property
    def thresholds(self) -> Mapping[Category, float]:
        """The thresholds the model was tuned with; a policy may raise or lower them."""
        ...

    def score(self, text: str) -> Mapping[Category, float]: ...


@dataclass(frozen=True, slots=True)
class ModelMatch:
    """One category the model scored at or over its threshold."""

    category: Category
    score: float
    threshold: float
    model: str

    def describe(self) -> str:
        return f"{self.category} score {self.score:.2f}, threshold {self.threshold:.2f}"


@dataclass(frozen=True, slots=True)
class QueryModel:
    """A scorer with the thresholds this policy applies to it."""

    scorer: QueryScorer
    thresholds: Mapping[Category, float]

    @classmethod
    def with_overrides(cls, scorer: QueryScorer, overrides: Mapping[Category, float]) -> QueryModel:
        thresholds = {**scorer.thresholds, **overrides}
        return cls(scorer, {c: thresholds[c] for c in MODEL_CATEGORIES if c in thresholds})

    def judge(self, query: str) -> tuple[ModelMatch, ...]:
        """The categories scored at or over their thresholds, highest score first; nothing for
        a query of one word, which says too little for a model trained on ways of asking (and
        is what autocomplete sends at every keystroke): single risky words are the lists'."""
        if len(query.split()) < MIN_WORDS:
            return ()
        scores = self.scorer.score(query)
        found = [
            ModelMatch(category, float(scores[category]), threshold, self.scorer.version)
            for category, threshold in self.thresholds.items()
            if float(scores[category]) >= threshold
        ]
        return tuple(sorted(found, key=lambda match: -match.score))
