"""The lexical features: fixed by their definition (not by the process), and the cues read
the obfuscations children and adults use.  Messages are written for these tests."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from abhaya.models.chatfeatures import DIMS, lexical
from abhaya.models.chatmodel import chat_text


def _set(text: str) -> set[int]:
    return set(lexical(chat_text(text))[0].tolist())


def test_the_vector_has_length_one_and_fits_the_head() -> None:
    indices, values = lexical(chat_text("send me ur number, we talk on the other app"))
    assert len(indices) > 20
    assert np.all(np.diff(indices) > 0)  # sorted, distinct
    assert indices.min() >= 0 and indices.max() < DIMS
    assert abs(float(np.dot(values, values)) - 1.0) < 1e-5
    empty, weight = lexical("")  # an empty message still has a (tiny) vector of length one
    assert len(empty) == 1 and abs(float(weight[0]) - 1.0) < 1e-6


def test_hashing_does_not_depend_on_the_process() -> None:
    """Python's own `hash` of a string changes with every process; the features must not."""
    code = (
        "from abhaya.models.chatfeatures import lexical;"
        "print(lexical('kisi ko mat batana 9876543210')[0].tolist())"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(runs) == 1
    assert runs.pop().strip() == str(lexical("kisi ko mat batana 9876543210")[0].tolist())


def test_cues_for_phone_numbers_ages_and_spelled_out_words() -> None:
    # Any phone number shares its cue and its digit shapes with any other.
    phone = _set("my number is 9123456780") & _set("call 8000111222 ok")
    assert len(phone) >= 5
    # Devanagari digits are read as the same number.
    assert _set("मेरी उम्र 14 है") == _set("मेरी उम्र १४ है")
    # A word spelled out letter by letter, or written with digits, meets the plain word.
    word = _set("telegram") - _set("te le") - _set("t e l e")  # pieces of the whole word only
    assert len(_set("t e l e g r a m") & word) >= 5
    assert _set("d3l3te it") == _set("delete it")  # read back by chat_text, before the features
