"""Train the search-query head on the generated queries and write ``models/data/query_head.npz``.

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python training/query_head/train.py [--cache DIR]

It embeds every generated query with the shipped encoder (`abhaya.models.textencoder`), fits a
multinomial logistic regression (scikit-learn), reports 5-fold cross-validation on the
generated data, writes the head with its thresholds, and records its sha256 in
``models/manifest.toml`` (``[query-head]``).  Thresholds are chosen by measuring with
``abhaya eval queries`` on the validation set; they are never fitted to it here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from generate import LABELS, ROOT, examples  # noqa: E402
from heads import embed_alone, save_head, start  # noqa: E402

from abhaya.filters.textnorm import normalize  # noqa: E402

OUT = ROOT / "models" / "data" / "query_head.npz"
THRESHOLDS = {"csam": 0.95, "self_harm": 0.90, "adult": 0.85}
C = 256.0  # weak regularisation: the embeddings are dense and the generated data is clean


def main() -> None:
    run = start(__doc__.splitlines()[0], OUT)
    encoder = run.encoder

    made = examples()
    texts = [normalize(example.text) for example in made]
    x = embed_alone(encoder, texts)
    y = np.array([LABELS.index(example.label) for example in made])
    print(
        f"{len(made)} queries: "
        + ", ".join(f"{name} {int((y == i).sum())}" for i, name in enumerate(LABELS))
    )

    model = LogisticRegression(C=C, max_iter=5000, class_weight="balanced")
    folds = StratifiedKFold(5, shuffle=True, random_state=7)
    predicted = cross_val_predict(model, x, y, cv=folds)
    for i, label in enumerate(LABELS):
        mask = y == i
        print(f"  5-fold {label:9} recall {np.mean(predicted[mask] == i):.3f}")

    model.fit(x, y)
    save_head(
        run.out,
        "query-head" if run.out == OUT else None,
        LABELS,
        model.coef_,
        model.intercept_,
        [THRESHOLDS[label] for label in LABELS[1:]],
    )


if __name__ == "__main__":
    main()
