"""`abhaya eval images DIR --labels CSV`: the image classifier over a labelled folder.

Each file goes through the same decoding and model as the proxy's images
(`abhaya.models.imagedecode`, `abhaya.models.imagemodel`); the labels file's format is in
`abhaya.models.imageeval`.  Output: a table, or with ``--json`` one JSON object (``scored``,
``unscannable`` by reason, ``skipped``, ``at_threshold`` and ``sweep``, each with
``threshold``, ``precision``, ``recall``, ``false_positive_rate`` and ``flagged``).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from abhaya.models.imagedecode import Unscannable, decode
from abhaya.models.imageeval import LabelFileError, Scored, evaluate, parse_labels
from abhaya.models.imagemodel import DEFAULT_THRESHOLD, ImageClassifier
from abhaya.models.manifest import ModelVerificationError

EXIT_USAGE = 2


def eval_images(folder: Path, labels: Path, threshold: float | None, as_json: bool) -> int:
    """Score every labelled image (flagged from `threshold`, by default the model's); a missing
    file or a wrong labels line refuses the run."""
    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    if not 0.0 < threshold <= 1.0:
        print(f"abhaya: the threshold must be in (0, 1], not {threshold}", file=sys.stderr)
        return EXIT_USAGE
    try:
        images = parse_labels(labels.read_text(encoding="utf-8"), str(labels), folder)
    except (OSError, UnicodeDecodeError) as err:
        print(f"abhaya: cannot read {labels}: {err}", file=sys.stderr)
        return EXIT_USAGE
    except LabelFileError as err:
        print(f"abhaya: {err}", file=sys.stderr)
        return EXIT_USAGE
    try:
        model = ImageClassifier.load()
    except ModelVerificationError as err:
        print(f"abhaya: the image model could not be loaded: {err}", file=sys.stderr)
        return EXIT_USAGE
    scored: list[Scored] = []
    unscannable: Counter[str] = Counter()
    skipped = 0
    for image in images:
        try:
            data = image.path.read_bytes()
        except OSError as err:
            print(f"abhaya: cannot read {image.path}: {err}", file=sys.stderr)
            return EXIT_USAGE
        try:
            decoded = decode(data)
        except Unscannable as err:
            unscannable[err.reason] += 1
            continue
        if decoded is None:
            skipped += 1
            continue
        scored.append(Scored(image, model.score(decoded)))
    report = evaluate(scored, dict(unscannable), skipped, threshold)
    print(json.dumps(report.as_json(), indent=1) if as_json else report.table())
    return 0
