"""The shipped chat-message model: its heads are verified, and it reads messages as written.

The messages here are written for these tests, not taken from the validation set.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from abhaya.models import chatfeatures
from abhaya.models.chatmodel import (
    CHAT_LABELS,
    ChatClassifier,
    ChatHead,
    ChatHeadError,
    chat_text,
    load_chat_model,
)
from abhaya.models.manifest import shipped_file
from abhaya.models.querymodel import load_query_model
from abhaya.models.textencoder import TextEncoder, shared_encoder


@pytest.fixture(scope="module")
def classifier(encoder: TextEncoder) -> ChatClassifier:
    return ChatClassifier(encoder, ChatHead.load(*shipped_file("chat-head")))


@pytest.mark.parametrize(
    ("message", "label"),
    [
        ("which school do you go to and what is your address", "personal_info"),
        ("add me on telegram, we can talk there privately", "platform_move"),
        ("i will send your photos to everyone unless you pay me", "sextortion"),
        ("mujhe ab jeena nahi hai, sab khatam karna chahta hu", "self_harm"),
    ],
)
def test_plain_cases_are_flagged_with_their_label(
    classifier: ChatClassifier, message: str, label: str
) -> None:
    (scored,) = classifier.classify([message])
    assert label in scored.flagged, dict(scored.scores)


@pytest.mark.parametrize(
    "message", ["did you finish the maths homework?", "कल क्रिकेट खेलने चलोगे?", "gg bro nice match"]
)
def test_ordinary_chatter_is_not_flagged(classifier: ChatClassifier, message: str) -> None:
    (scored,) = classifier.classify([message])
    assert scored.flagged == (), dict(scored.scores)


def test_every_label_is_scored_and_thresholds_can_be_given(classifier: ChatClassifier) -> None:
    (scored,) = classifier.classify(["see you at the park at 5"])
    assert tuple(scored.scores) == CHAT_LABELS
    assert all(0.0 <= value <= 1.0 for value in scored.scores.values())
    (everything,) = classifier.classify(
        ["see you at the park at 5"], dict.fromkeys(CHAT_LABELS, 0.0)
    )
    assert everything.flagged == CHAT_LABELS  # the positive path, by configuration


def test_a_batch_scores_each_message_as_alone(classifier: ChatClassifier) -> None:
    messages = ["hi", "send me a selfie", "tu kaha rehta hai", "ठीक है, कल मिलते हैं"]
    together = classifier.classify(messages)
    for message, scored in zip(messages, together, strict=True):
        (alone,) = classifier.classify([message])
        for label in CHAT_LABELS:
            assert scored.scores[label] == pytest.approx(alone.scores[label], abs=0.05)


def test_bad_arguments_and_an_empty_batch(classifier: ChatClassifier) -> None:
    with pytest.raises(TypeError):
        classifier.classify("one string")  # type: ignore[arg-type]
    assert classifier.classify([]) == []
    (huge,) = classifier.classify(["a" * 1_000_000])  # cut, not refused
    assert set(huge.scores) == set(CHAT_LABELS)


def test_messages_are_read_as_the_matcher_folds_them() -> None:
    assert chat_text("Ｓｅｎｄ   me a PIC!!") == "send me a pic"
    assert chat_text("r u alone? call 9876543210") == "r u alone call 9876543210"
    assert chat_text("ѕеnd") == "send"  # Cyrillic look-alikes
    assert chat_text("तुम कहाँ रहते हो?") == "तुम कहाँ रहते हो"


def test_leetspeak_inside_words_is_read_back_but_numbers_and_shorthand_stay() -> None:
    assert chat_text("s3nd p1c, wh@t r u w3aring") == "send pic what r u wearing"
    assert chat_text("$exy") == "sexy"
    assert (
        chat_text("u in 7th or 8th? call 9876543210 b4 6") == "u in 7th or 8th call 9876543210 b4 6"
    )


def _save(
    path: Path,
    labels: tuple[str, ...],
    rows: int,
    width: int = 384,
    features: str | None = chatfeatures.SCHEME,
) -> str:
    """A head of zeros; `width` counts the embedding's weights (the lexical ones follow)."""
    extra = {} if features is None else {"features": np.array(features)}
    np.savez(
        path,
        labels=np.array(labels),
        weights=np.zeros((rows, width + chatfeatures.DIMS), dtype=np.float32),
        bias=np.zeros(rows, dtype=np.float32),
        thresholds=np.full(rows, 0.5),
        **extra,
    )
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_head_not_the_manifests_or_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    path, sha256 = shipped_file("chat-head")
    with pytest.raises(ChatHeadError, match="sha256"):
        ChatHead.load(path, "0" * 64)
    with pytest.raises(ChatHeadError, match="cannot read"):
        ChatHead.load(tmp_path / "missing.npz", sha256)
    bad = tmp_path / "bad.npz"
    with pytest.raises(ChatHeadError, match="labels"):
        ChatHead.load(bad, _save(bad, CHAT_LABELS[:-1], 10))
    with pytest.raises(ChatHeadError, match="do not fit"):
        ChatHead.load(bad, _save(bad, CHAT_LABELS, 12))
    # A head trained on other lexical features (or on none) would read the wrong columns.
    with pytest.raises(ChatHeadError, match="features"):
        ChatHead.load(bad, _save(bad, CHAT_LABELS, 11, features="chat-lexical/v0"))
    with pytest.raises(ChatHeadError, match="features"):
        ChatHead.load(bad, _save(bad, CHAT_LABELS, 11, features=None))
    with pytest.raises(ChatHeadError, match="no embedding"):
        ChatHead.load(bad, _save(bad, CHAT_LABELS, 11, width=0))


def test_heads_for_another_encoder_are_refused(encoder: TextEncoder, tmp_path: Path) -> None:
    path = tmp_path / "wide.npz"
    head = ChatHead.load(path, _save(path, CHAT_LABELS, len(CHAT_LABELS), width=768))
    with pytest.raises(ChatHeadError, match="read 768 numbers, not 384"):
        ChatClassifier(encoder, head)


def test_the_chat_and_query_models_share_one_encoder(encoder_cache: Path) -> None:
    """A second encoder would cost the agent ~40 MB more for the same numbers
    (bench/models)."""
    chat = load_chat_model(encoder_cache)
    query = load_query_model(encoder_cache)
    assert chat._encoder is query._encoder is shared_encoder(encoder_cache)
