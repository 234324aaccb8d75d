"""What the trainers here share: their command line and encoder, embedding texts as the agent
does, and writing a head file and recording its SHA-256 in ``models/manifest.toml``."""

from __future__ import annotations

import argparse
import hashlib
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from abhaya.models.textencoder import TextEncoder

MANIFEST = Path(__file__).resolve().parents[1] / "models" / "manifest.toml"


@dataclass(frozen=True)
class Training:
    """A trainer's run: where the head goes, the encoder's cache folder, the encoder."""

    out: Path
    cache: Path
    encoder: TextEncoder


def start(description: str, out: Path) -> Training:
    """Read a trainer's command line (`--cache`, `--out`, defaulting to the shipped head `out`)
    and load the encoder, built into a temporary folder unless `--cache` names one."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--cache", type=Path, help="encoder cache folder (default: a temp one)")
    parser.add_argument("--out", type=Path, default=out)
    args = parser.parse_args()
    cache = args.cache or Path(tempfile.mkdtemp(prefix="abhaya-encoder-"))
    return Training(args.out, cache, TextEncoder.load(cache))


def embed_alone(encoder: TextEncoder, texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """One text a run, as the agent embeds them: int8 activations are quantised per run, so a
    text in a batch would come out slightly different from the same text alone."""
    return np.stack([encoder.embed([text], kind="query")[0] for text in texts])


def save_head(
    path: Path,
    table: str | None,
    labels: Sequence[str],
    weights: npt.NDArray[np.floating],
    bias: npt.NDArray[np.floating],
    thresholds: Sequence[float],
    features: str = "",
) -> None:
    """Write the head (`abhaya.models.heads` reads it) and, when `table` is given, record its
    SHA-256 there so the agent loads this head and no other.  `features` names the lexical
    feature scheme the weights read after the embedding's (none when empty)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = {"features": np.array(features)} if features else {}
    np.savez(
        path,
        labels=np.array(labels),
        weights=np.asarray(weights, dtype=np.float32),
        bias=np.asarray(bias, dtype=np.float32),
        thresholds=np.array(thresholds),
        **extra,
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    print(f"wrote {path} (sha256 {digest})")
    if table is not None:
        record_in_manifest(table, digest)


def record_in_manifest(table: str, digest: str) -> None:
    """Put `digest` in the manifest's `[table]`."""
    text = MANIFEST.read_text(encoding="utf-8")
    found = re.search(rf'(?ms)^\[{re.escape(table)}\]\n.*?^sha256 = "[0-9a-f]{{64}}"', text)
    if found is None:
        raise SystemExit(f"{MANIFEST}: no [{table}] table with a sha256 line")
    updated = re.sub(r'sha256 = "[0-9a-f]{64}"', f'sha256 = "{digest}"', found.group(0))
    MANIFEST.write_text(text[: found.start()] + updated + text[found.end() :], encoding="utf-8")
    print(f"recorded in {MANIFEST} under [{table}]")
