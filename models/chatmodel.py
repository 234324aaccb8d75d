"""The chat-message model: the shared text encoder with one logistic head per risk label.

A message can carry several risks at once ("don't tell your parents, send a pic"), so each of
the eleven labels has its own yes/no head (one-vs-rest logistic regression over the encoder's
384-number embedding followed by the message's hashed lexical features, `chatfeatures`) and its
own threshold, chosen by cross-validation on the training data (never on the validation set);
the heads are trained by ``training/chat/train.py`` on this project's own generated messages and
kept in ``models/data/chat_head.npz``, pinned by SHA-256 in ``models/manifest.toml``
(``[chat-head]``).

Messages are read as the search matcher folds text (`abhaya.filters.unicodefold`): look-alike
letters from other scripts, styled and fullwidth letters, zero-width characters and case are
undone, leetspeak inside a word is read back ("s3nd p1c", "wh@t"), punctuation and emoji become
space; other digits and words are kept as written, since "r u alone", "7th" and a phone number
are exactly what the model must see.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from abhaya.filters.chatlabels import CHAT_LABELS
from abhaya.filters.leetspeak import LEET_I
from abhaya.filters.unicodefold import fold
from abhaya.models import chatfeatures
from abhaya.models.heads import check_width, read_head
from abhaya.models.manifest import shipped_file
from abhaya.models.textencoder import TextEncoder, shared_encoder

__all__ = [
    "CHAT_LABELS",
    "ChatClassifier",
    "ChatHead",
    "ChatHeadError",
    "MessageScores",
    "chat_text",
    "load_chat_model",
]


MAX_MESSAGE_CHARS = 2000
"""Longer messages are cut: a chat message that long is a paste, and the encoder reads at most
512 tokens anyway."""


class ChatHeadError(Exception):
    """The head file is missing, altered, or not the shape the code expects."""


def chat_text(text: str) -> str:
    """A message as the model reads it (see the module docstring)."""
    folded, _ = fold(text[:MAX_MESSAGE_CHARS])
    spelled = _unleet(folded.decode("utf-8", "replace"))
    return " ".join(_SEPARATORS.split(spelled)).strip()


def _unleet(text: str) -> str:
    """Leetspeak inside a word read back as letters, the search matcher's table
    (`abhaya.filters.leetspeak.LEET_I`): digits with a letter on both sides ("s3nd p1c"), and
    "@" or "$" next to a letter ("wh@t", "$exy").  Digits at a word's edge stay, since there
    they are mostly numbers and chat shorthand ("7th", "b4", "gr8")."""
    text = _LEET_INSIDE.sub(lambda found: found.group(0).translate(LEET_I), text)
    return _LEET_SYMBOL.sub(lambda found: found.group(0).translate(LEET_I), text)


_LEET_INSIDE = re.compile(r"(?<=[a-z])[013457]+(?=[a-z])")
_LEET_SYMBOL = re.compile(r"(?<=[a-z])[@$]|[@$](?=[a-z])")


# What `fold` leaves for the leetspeak reader ("!", "$", "@") is punctuation to the model;
# Devanagari signs are not word characters to `re` and are kept explicitly.
_SEPARATORS = re.compile(r"[^\w\u0900-\u097f]+")


@dataclass(frozen=True, slots=True)
class MessageScores:
    """A score in 0..1 per label, and the labels at or over their thresholds."""

    scores: Mapping[str, float]
    flagged: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChatHead:
    labels: tuple[str, ...]
    weights: npt.NDArray[np.float64]  # (labels, dim)
    bias: npt.NDArray[np.float64]  # (labels,)
    thresholds: Mapping[str, float]
    sha256: str

    @classmethod
    def load(cls, path: Path, sha256: str) -> ChatHead:
        """Read the head, refusing a file whose digest is not the manifest's or whose lexical
        features are not the ones `chatfeatures` computes."""
        head = read_head(path, sha256, ChatHeadError, "chat head")
        if head.labels != CHAT_LABELS:
            raise ChatHeadError(f"{path}: labels {head.labels} are not {CHAT_LABELS}")
        if head.thresholds.shape != (len(CHAT_LABELS),):
            raise ChatHeadError(f"{path}: thresholds of the wrong shape")
        if head.features != chatfeatures.SCHEME:
            raise ChatHeadError(
                f"{path}: features {head.features!r} are not {chatfeatures.SCHEME!r}"
            )
        if head.weights.shape[1] <= chatfeatures.DIMS:
            raise ChatHeadError(f"{path}: weights {head.weights.shape} leave no embedding")
        limits = MappingProxyType(dict(zip(CHAT_LABELS, map(float, head.thresholds), strict=True)))
        return cls(CHAT_LABELS, head.weights, head.bias, limits, sha256)

    @property
    def embedding_width(self) -> int:
        """How many of the weights read the embedding (the rest read the lexical features)."""
        return int(self.weights.shape[1]) - chatfeatures.DIMS

    def probabilities(
        self, embedding: npt.NDArray[np.float32], text: str
    ) -> npt.NDArray[np.float64]:
        """One independent probability per label for one message: its embedding and its text
        as the model reads it (`chat_text`)."""
        width = self.embedding_width
        indices, values = chatfeatures.lexical(text)
        logits = (
            self.weights[:, :width] @ embedding.astype(np.float64)
            + self.weights[:, width + indices] @ values.astype(np.float64)
            + self.bias
        )
        return np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float64)


class ChatClassifier:
    """Scores chat messages; safe to call from several threads (the encoder is, and the head
    is read-only)."""

    def __init__(self, encoder: TextEncoder, head: ChatHead) -> None:
        check_width(head.weights[:, : head.embedding_width], encoder.dim, ChatHeadError,
                    "the heads read")  # fmt: skip
        self._encoder = encoder
        self._head = head
        self.version = f"{encoder.version}+chat-head-{head.sha256[:12]}"

    @property
    def thresholds(self) -> Mapping[str, float]:
        return self._head.thresholds

    def classify(
        self, texts: Sequence[str], thresholds: Mapping[str, float] | None = None
    ) -> list[MessageScores]:
        """Scores for each message (in one batch); `thresholds` override the tuned ones."""
        if isinstance(texts, str):
            raise TypeError("classify takes a sequence of messages, not one string")
        if not texts:
            return []
        limits = {**self._head.thresholds, **(thresholds or {})}
        # One message a run: int8 activations are quantised per run, so a message in a batch
        # would score slightly differently than alone, and the agent sees messages alone.
        out = []
        for text in texts:
            read = chat_text(text)
            row = self._head.probabilities(self._encoder.embed([read], kind="query")[0], read)
            scores = dict(zip(self._head.labels, map(float, row), strict=True))
            flagged = tuple(label for label in self._head.labels if scores[label] >= limits[label])
            out.append(MessageScores(MappingProxyType(scores), flagged))
        return out


@cache
def load_chat_model(cache_dir: Path) -> ChatClassifier:
    """The shipped chat model, loaded once per process and cache folder."""
    path, sha256 = shipped_file("chat-head")
    return ChatClassifier(shared_encoder(cache_dir), ChatHead.load(path, sha256))
