"""How the agent and the CLI load the search-query model: lazily, once per process.

onnxruntime and the encoder are imported only when a policy turns the model on, so commands
that never decide a search (status, events, set-pin) start as fast as before.
"""

from __future__ import annotations

from pathlib import Path

from abhaya.filters.policy.compile import ScorerLoader
from abhaya.filters.querymodel import QueryScorer


def query_model_loader(models_dir: Path) -> ScorerLoader:
    """A loader for the shipped query model, building its encoder into `models_dir` once."""

    def load() -> QueryScorer:
        from abhaya.models.querymodel import load_query_model

        return load_query_model(models_dir)

    return load
