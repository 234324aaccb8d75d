"""Train the chat-message heads on the generated messages and write ``models/data/chat_head.npz``.

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python training/chat/train.py [--cache DIR]

It embeds every generated message with the shipped encoder, as the agent reads it
(`abhaya.models.chatmodel.chat_text`), fits one logistic regression per label (scikit-learn;
one-vs-rest, since a message can carry several risks), reports 5-fold cross-validation on the
generated data, writes the heads with their thresholds and records the file's SHA-256 in
``models/manifest.toml`` (``[chat-head]``).  Thresholds are chosen by measuring with
``abhaya eval chat`` on the validation set; they are never fitted to it here.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from generate import LABELS, examples  # noqa: E402
from heads import embed_alone, save_head  # noqa: E402

from abhaya.models.chatmodel import CHAT_LABELS, chat_text  # noqa: E402
from abhaya.models.textencoder import TextEncoder  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "models" / "data" / "chat_head.npz"
THRESHOLDS = dict.fromkeys(CHAT_LABELS, 0.5)
C = 16.0  # with the natural class balance: "balanced" weights flagged a quarter of benign messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="encoder cache folder (default: a temp one)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    encoder = TextEncoder.load(args.cache or Path(tempfile.mkdtemp(prefix="abhaya-encoder-")))

    if set(LABELS) != set(CHAT_LABELS):  # the generator runs without the package installed
        raise SystemExit(f"generate.py labels {LABELS} are not the model's {CHAT_LABELS}")
    made = examples()
    x = embed_alone(encoder, [chat_text(example.text) for example in made])
    y = np.array([[label in example.labels for label in CHAT_LABELS] for example in made])
    benign = int((~y.any(axis=1)).sum())
    print(f"{len(made)} messages, {benign} benign; " + ", ".join(
        f"{label} {int(y[:, i].sum())}" for i, label in enumerate(CHAT_LABELS)
    ))  # fmt: skip

    weights, bias = [], []
    folds = StratifiedKFold(5, shuffle=True, random_state=7)
    for i, label in enumerate(CHAT_LABELS):
        model = LogisticRegression(C=C, max_iter=5000)
        predicted = cross_val_predict(model, x, y[:, i], cv=folds)
        true_pos = int((predicted & y[:, i]).sum())
        precision = true_pos / max(int(predicted.sum()), 1)
        recall = true_pos / max(int(y[:, i].sum()), 1)
        print(f"  5-fold {label:14} precision {precision:.3f} recall {recall:.3f}")
        model.fit(x, y[:, i])
        weights.append(model.coef_[0])
        bias.append(model.intercept_[0])

    save_head(
        args.out,
        "chat-head" if args.out == OUT else None,
        CHAT_LABELS,
        np.array(weights),
        np.array(bias),
        [THRESHOLDS[label] for label in CHAT_LABELS],
    )


if __name__ == "__main__":
    main()
