"""Build the image classifier's int8 screening copy (`models/data/open_nsfw_screen_int8.onnx`).

The agent scores each image first with this copy (about half the float model's time) and asks
the float model only when the copy's score is within `models.imagemodel.SCREEN_MARGIN` logits
of the profile's threshold (`ImageClassifier.screen`), so what is flagged is always the float
model's decision.  This script quantises the pinned float model (`[image-classifier]` in
models/manifest.toml) with onnxruntime's static quantisation: weights int8 per channel,
activations uint8 with ranges calibrated on the photographs `skimage.data` ships (benign; no
other image is needed or used).  The pooling, the last layer and the softmax stay float, so the
score is not rounded to 1/256.

Then it reports how far the copy's scores are from the float model's, in logits, over the
benign images of the tests (`tests/models/benignimages.py`: the photographs and generated
pictures, most of which were not used for calibration), and writes the new SHA-256 for the
manifest's `[image-screen]`.  Run from the repository's root, with the test extras installed:

    .venv/bin/python training/image_screen/build.py
"""

from __future__ import annotations

import hashlib
import math
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from abhaya.models.imagemodel import MANIFEST_TABLE, model_input  # noqa: E402
from abhaya.models.manifest import default_manifest, verified_source  # noqa: E402
from tests.models.benignimages import benign_images, skimage_photos  # noqa: E402

OUTPUT = ROOT / "models" / "data" / "open_nsfw_screen_int8.onnx"
KEPT_FLOAT = ("pool/AvgPool", "fc_nsfw/MatMul/MatMulAddFusion", "predictions")
"""The float model's last nodes, left unquantised."""
SIZE = (1024, 768)


class Photographs(CalibrationDataReader):
    def __init__(self, input_name: str) -> None:
        self._inputs = iter(
            [{input_name: model_input(p.resize(SIZE))[np.newaxis]} for _, p in skimage_photos()]
        )

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._inputs, None)


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def main() -> int:
    _, source = verified_source(default_manifest(), MANIFEST_TABLE)
    name = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"]).get_inputs()[0]
    with tempfile.TemporaryDirectory() as temp:
        prepared = Path(temp) / "prepared.onnx"
        quant_pre_process(str(source), str(prepared))
        quantize_static(
            str(prepared),
            str(OUTPUT),
            Photographs(name.name),
            quant_format=QuantFormat.QOperator,
            per_channel=True,
            weight_type=QuantType.QInt8,
            activation_type=QuantType.QUInt8,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=list(KEPT_FLOAT),
        )
    exact = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    screen = ort.InferenceSession(str(OUTPUT), providers=["CPUExecutionProvider"])
    rows = []
    for label, picture in benign_images():
        x = {name.name: model_input(picture.convert("RGB").resize(SIZE))[np.newaxis]}
        a = float(exact.run(None, x)[0][0][1])
        b = float(screen.run(None, x)[0][0][1])
        rows.append((logit(a) - logit(b), a, b, label))
    under = [r for r in rows if r[0] > 0]
    print(f"{len(rows)} benign images; |logit(float) - logit(int8)|:")
    errors = [abs(r[0]) for r in rows]
    print(f"  median {statistics.median(errors):.3f}, max {max(errors):.3f}")
    print(f"  the copy below the float model by at most {max(r[0] for r in under):.3f}")
    for error, a, b, label in sorted(rows, key=lambda r: -r[0])[:5]:
        print(f"  {label}: float {a:.4f}, int8 {b:.4f} ({error:+.3f})")
    digest = hashlib.sha256(OUTPUT.read_bytes()).hexdigest()
    print(f"{OUTPUT.relative_to(ROOT)}: {OUTPUT.stat().st_size} bytes, sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
