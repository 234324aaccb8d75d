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
import hashlib
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from generate import examples  # noqa: E402
from manifest_record import record_in_manifest  # noqa: E402

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

    made = examples()
    # One text a run, as the agent embeds them (int8 activations are quantised per run).
    x = np.stack([encoder.embed([chat_text(e.text)], kind="query")[0] for e in made])
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

    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.out,
        labels=np.array(CHAT_LABELS),
        weights=np.array(weights, dtype=np.float32),
        bias=np.array(bias, dtype=np.float32),
        thresholds=np.array([THRESHOLDS[label] for label in CHAT_LABELS]),
    )
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} (sha256 {digest})")
    if args.out == OUT:
        record_in_manifest("chat-head", digest)


if __name__ == "__main__":
    main()
