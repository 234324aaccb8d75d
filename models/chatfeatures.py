"""Lexical features of a chat message, next to the encoder's embedding.

multilingual-e5 reads Devanagari well but Hinglish poorly (its training text is little
romanised Hindi), and a sentence embedding blurs the few words that decide a label ("mat batana",
"delete", "kitne saal"); the spelling children use ("nhi", "pic", "whtsapp") scatters them
further.  So each message also gets a sparse vector of hashed pieces of its text, and the heads
read both (see `chatmodel`):

- character 2- to 4-grams of the message with a space at either end (spelling variants share
  most of them), every digit written as ``0`` so any phone number or age looks alike;
- words and pairs of adjacent words;
- a few cues, each one feature, where a pattern says more than its letters: a run of seven or
  more digits (a phone number), a number from 10 to 19 (an age); a spelled-out word
  ("t e l e g r a m") rejoined and added as one more word.  (Digits for letters, "s3nd", are
  read back before, by `chatmodel.chat_text`, for the encoder too.)

Each piece is hashed with CRC-32 (`zlib.crc32` of ``kind:piece`` in UTF-8, modulo `DIMS`); the
hash is fixed by the standard, unlike Python's salted `hash`, so training and the agent agree
on every machine.  Pieces count once (presence, not frequency) and the vector is scaled to
length 1.  The trainer (``training/chat/train.py``) calls the same function, and the head file
records `SCHEME`, which the model checks, so a head trained on other features is refused.
"""

from __future__ import annotations

import re
import zlib
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["DIMS", "SCHEME", "lexical"]

DIMS: Final = 1 << 14
SCHEME: Final = "chat-lexical/v2/crc32/2^14/char2-4,word1-2,cues"
"""Names the features exactly; a change to anything in this module must change it."""

_DIGIT: Final = re.compile(r"\d")
_PHONE: Final = re.compile(r"\d{7,}")
_AGE: Final = re.compile(r"(?<!\d)1\d(?!\d)")


def lexical(text: str) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """The hashed features of `text` as read by the model (`chatmodel.chat_text`): sorted
    distinct indices below `DIMS` and their values (all equal, the vector of length 1).  Never
    empty: the padding spaces alone make one piece."""
    pieces: set[str] = set()
    ascii_digits = text.translate(_ASCII_DIGITS)
    words = ascii_digits.split()
    if _PHONE.search(ascii_digits.replace(" ", "")):
        pieces.add("cue:phone")
    if _AGE.search(ascii_digits):
        pieces.add("cue:age")
    words += _spelled_out(words)
    shaped = " " + _DIGIT.sub("0", " ".join(words)) + " "
    for size in (2, 3, 4):
        pieces.update("c:" + shaped[i : i + size] for i in range(len(shaped) - size + 1))
    pieces.update("w:" + word for word in words)
    pieces.update(f"b:{a} {b}" for a, b in zip(words, words[1:], strict=False))
    indices = np.unique(np.fromiter((zlib.crc32(p.encode()) % DIMS for p in pieces), np.intp))
    return indices, np.full(len(indices), 1.0 / np.sqrt(len(indices)), dtype=np.float32)


# Devanagari digits (the generator and children both write them) read as ASCII ones.
_ASCII_DIGITS: Final = str.maketrans("०१२३४५६७८९", "0123456789")


def _spelled_out(words: list[str]) -> list[str]:
    """Runs of three or more one-letter words joined: "d e l e t e" -> "delete"."""
    out: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1 and not word.isdigit():
            run.append(word)
            continue
        if len(run) >= 3:
            out.append("".join(run))
        run = []
    return out
