"""Reading a trained head file: the one format both the query and the chat heads are kept in.

A head is a small ``.npz`` of four arrays (``labels``, ``weights`` a row per label, ``bias``,
``thresholds``) and, for a head that also reads features of the text beside the embedding, a
fifth (``features``, the name of their scheme; see `chatfeatures`), written by the trainers in
``training/`` and pinned by SHA-256 in ``models/manifest.toml``.  The file is read once and
parsed from the bytes that were checked, so what is verified is what is used; each model adds
the checks of its own labels.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from abhaya.models.manifest import verified_bytes

__all__ = ["HeadArrays", "check_width", "read_head"]


@dataclass(frozen=True, slots=True)
class HeadArrays:
    labels: tuple[str, ...]
    weights: npt.NDArray[np.float64]  # (labels, dim)
    bias: npt.NDArray[np.float64]  # (labels,)
    thresholds: npt.NDArray[np.float64]
    features: str
    """The scheme of the features the weights read after the embedding's; "" for none."""


def read_head(path: Path, sha256: str, error: type[Exception], kind: str) -> HeadArrays:
    """The arrays of the head at `path`; `error` when the file cannot be read, is not the
    manifest's, is not a head (`kind` names it in the message) or its weights and bias do not
    have a row and a number per label."""
    data = verified_bytes(path, sha256, error)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            labels = tuple(str(label) for label in npz["labels"])
            weights = np.asarray(npz["weights"], dtype=np.float64)
            bias = np.asarray(npz["bias"], dtype=np.float64)
            thresholds = np.asarray(npz["thresholds"], dtype=np.float64)
            features = str(npz["features"]) if "features" in npz.files else ""
    except (KeyError, ValueError, OSError) as exc:
        raise error(f"{path}: not a {kind}: {exc}") from exc
    count = len(labels)
    if weights.ndim != 2 or weights.shape[0] != count:
        raise error(f"{path}: weights {weights.shape} do not fit {count} labels")
    if bias.shape != (count,):
        raise error(f"{path}: bias of the wrong shape")
    return HeadArrays(labels, weights, bias, thresholds, features)


def check_width(
    weights: npt.NDArray[np.float64], dim: int, error: type[Exception], what: str
) -> None:
    """A head made for another encoder is refused when the model is put together, not at its
    first message or search (`what`: "the head reads", for the message)."""
    if weights.shape[1] != dim:
        raise error(f"{what} {weights.shape[1]} numbers, not {dim}")
