"""Train the chat-message heads on the generated messages and write ``models/data/chat_head.npz``.

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python training/chat/train.py [--cache DIR]

It embeds every generated message with the shipped encoder, as the agent reads it
(`abhaya.models.chatmodel.chat_text`), adds the message's hashed lexical features
(`abhaya.models.chatfeatures`), and fits one logistic regression per label (scikit-learn;
one-vs-rest, since a message can carry several risks).  Five-fold cross-validation on the
generated data keeps every template's messages in one fold (`GroupKFold`), so a fold is scored
on phrasings it never saw, not on near-copies; each label's threshold is the one with the best
F1 over those held-out predictions.  The validation set is never read here: it measures the
result (``abhaya eval chat``).  The heads, their thresholds and the feature scheme go to the
head file, whose SHA-256 is recorded in ``models/manifest.toml`` (``[chat-head]``).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from generate import LABELS, examples  # noqa: E402
from heads import embed_alone, save_head, start  # noqa: E402

from abhaya.models import chatfeatures  # noqa: E402
from abhaya.models.chatmodel import CHAT_LABELS, chat_text  # noqa: E402
from abhaya.models.textencoder import TextEncoder  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "models" / "data" / "chat_head.npz"
C = 8.0
"""Inverse regularisation, with the classes' natural balance ("balanced" weights flagged a
quarter of the benign validation messages in the first version)."""
EMBEDDING_SCALE = 2.0
"""The embedding (length 1) is weighted against the lexical vector (length 1) by this much
before fitting; the saved weights include it, so the agent multiplies nothing."""
THRESHOLD_RANGE = (0.3, 0.7)
"""Thresholds chosen by cross-validation stay in this range: the generated folds are cleaner
than real chats, and a threshold at an extreme would trust them too far."""


def main() -> None:
    run = start(__doc__.splitlines()[0], OUT)
    encoder = run.encoder

    if set(LABELS) != set(CHAT_LABELS):  # the generator runs without the package installed
        raise SystemExit(f"generate.py labels {LABELS} are not the model's {CHAT_LABELS}")
    made = examples()
    texts = [chat_text(example.text) for example in made]
    x = features(embedded(encoder, texts, run.cache), texts)
    y = np.array([[label in example.labels for label in CHAT_LABELS] for example in made])
    groups = np.array([example.template for example in made])
    benign = int((~y.any(axis=1)).sum())
    print(f"{len(made)} messages, {benign} benign; " + ", ".join(
        f"{label} {int(y[:, i].sum())}" for i, label in enumerate(CHAT_LABELS)
    ))  # fmt: skip

    held_out = np.zeros(y.shape)
    for train, test in GroupKFold(5).split(x, y, groups):
        for i in range(len(CHAT_LABELS)):
            model = LogisticRegression(C=C, max_iter=5000).fit(x[train], y[train, i])
            held_out[test, i] = model.predict_proba(x[test])[:, 1]
    thresholds = [best_threshold(held_out[:, i], y[:, i]) for i in range(len(CHAT_LABELS))]
    print("5-fold by template: label, F1 (precision / recall) at 0.5 and at its threshold")
    for i, label in enumerate(CHAT_LABELS):
        at_half = scores(held_out[:, i] >= 0.5, y[:, i])
        tuned = scores(held_out[:, i] >= thresholds[i], y[:, i])
        print(f"  {label:14} {at_half}   {thresholds[i]:.2f}: {tuned}")
    flagged = held_out >= np.array(thresholds)
    risky = y.any(axis=1)
    print(
        f"  risky flagged {flagged[risky].any(axis=1).mean():.3f}, "
        f"benign flagged {flagged[~risky].any(axis=1).mean():.3f}"
    )

    weights, bias = [], []
    for i in range(len(CHAT_LABELS)):
        model = LogisticRegression(C=C, max_iter=5000).fit(x, y[:, i])
        row = model.coef_[0].copy()
        row[: encoder.dim] *= EMBEDDING_SCALE
        weights.append(row)
        bias.append(model.intercept_[0])

    save_head(
        run.out,
        "chat-head" if run.out == OUT else None,
        CHAT_LABELS,
        np.array(weights),
        np.array(bias),
        thresholds,
        features=chatfeatures.SCHEME,
    )


def features(embeddings: npt.NDArray[np.float32], texts: list[str]) -> sparse.csr_matrix:
    """The embedding, scaled, then the lexical features: the row the heads read."""
    rows, cols, values = [], [], []
    for row, text in enumerate(texts):
        indices, weights = chatfeatures.lexical(text)
        rows.extend([row] * len(indices))
        cols.extend(indices.tolist())
        values.extend(weights.tolist())
    shape = (len(texts), chatfeatures.DIMS)
    lexical = sparse.csr_matrix((values, (rows, cols)), shape=shape, dtype=np.float64)
    return sparse.hstack([sparse.csr_matrix(embeddings * EMBEDDING_SCALE), lexical], "csr")


def embedded(encoder: TextEncoder, texts: list[str], cache: Path) -> npt.NDArray[np.float32]:
    """Each text embedded alone, reusing the vectors of texts embedded by an earlier run with
    the same encoder (kept next to the encoder's cache): templates change a few lines at a time."""
    store = (
        cache / f"chat-embeddings-{hashlib.sha256(encoder.version.encode()).hexdigest()[:12]}.npz"
    )
    known: dict[str, npt.NDArray[np.float32]] = {}
    if store.exists():
        with np.load(store, allow_pickle=False) as saved:
            known = dict(zip(saved["texts"].tolist(), saved["vectors"], strict=True))
    missing = sorted(set(texts) - set(known))
    if missing:
        print(f"embedding {len(missing)} new messages ({len(texts) - len(missing)} known)")
        known.update(zip(missing, embed_alone(encoder, missing), strict=True))
        np.savez(store, texts=np.array(list(known)), vectors=np.stack(list(known.values())))
    return np.stack([known[text] for text in texts])


def best_threshold(probabilities: npt.NDArray[np.float64], truth: npt.NDArray[np.bool_]) -> float:
    """The threshold with the best F1 on held-out predictions, within `THRESHOLD_RANGE`."""
    candidates = np.round(np.arange(THRESHOLD_RANGE[0], THRESHOLD_RANGE[1] + 1e-9, 0.025), 3)
    f1 = [f1_score(probabilities >= limit, truth) for limit in candidates]
    return float(candidates[int(np.argmax(f1))])


def f1_score(predicted: npt.NDArray[np.bool_], truth: npt.NDArray[np.bool_]) -> float:
    true_pos = int((predicted & truth).sum())
    return 2 * true_pos / max(int(predicted.sum()) + int(truth.sum()), 1)


def scores(predicted: npt.NDArray[np.bool_], truth: npt.NDArray[np.bool_]) -> str:
    true_pos = int((predicted & truth).sum())
    precision = true_pos / max(int(predicted.sum()), 1)
    recall = true_pos / max(int(truth.sum()), 1)
    return f"{f1_score(predicted, truth):.3f} ({precision:.3f} / {recall:.3f})"


if __name__ == "__main__":
    main()
