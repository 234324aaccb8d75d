"""`abhaya classify-image` and `abhaya eval images`: the image checks the proxy runs, on files.

Both load the classifier the agent runs (`abhaya.models.imagemodel`, its weights checked
against the manifest) and decode as the proxy decodes (`abhaya.models.imagedecode`).

`classify-image PATH...` scans each file as the proxy scans an image's bytes
(`abhaya.models.imagescan`).  With `--json` its output is a contract for scripts: one JSON
object a file, in the order given, each written as soon as it is scanned:

    {"path", "sha256", "format", "width", "height", "score", "flagged", "threshold",
     "skipped", "pdq", "pdq_quality", "ms"}

`score` is null (and `skipped` true) for an image under 64×64, which the proxy lets through
unchecked; a file that cannot be read or decoded gets `{"path", "error"}` instead.  The exit
status is 1 when any file could not be checked, 2 when the model could not be loaded.

`eval images DIR --labels CSV` scores a labelled folder (the labels file's format is in
`abhaya.models.imageeval`).  Output: a table, or with ``--json`` one JSON object (``scored``,
``unscannable`` by reason, ``skipped``, ``at_threshold`` and ``sweep``, each with
``threshold``, ``precision``, ``recall``, ``false_positive_rate`` and ``flagged``).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from abhaya.models.imagedecode import Unscannable, decode
from abhaya.models.imageeval import LabelFileError, Scored, evaluate, parse_labels
from abhaya.models.imagemodel import DEFAULT_THRESHOLD, ImageClassifier
from abhaya.models.imagescan import ImageScan, ImageScanner
from abhaya.models.manifest import ModelVerificationError

EXIT_USAGE = 2
EXIT_UNCHECKED = 1
EXIT_NO_MODEL = 2
MAX_FILE_BYTES = 64 * 1024 * 1024
"""Larger files are not read (the proxy holds at most 16 MiB of one image)."""


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
        screened = model.screen(decoded, threshold)
        exact = screened.value if screened.exact else model.score(decoded)
        scored.append(Scored(image, exact, screened_clear=not screened.exact))
    report = evaluate(scored, dict(unscannable), skipped, threshold)
    print(json.dumps(report.as_json(), indent=1) if as_json else report.table())
    return 0


def classify_image(
    paths: Sequence[Path],
    as_json: bool,
    threshold: float | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Scan each file; print one line (or JSON object) for each (to `stdout`, by default the
    process's standard output as it is when called)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        scanner = ImageScanner(ImageClassifier.load())
    except ModelVerificationError as error:
        print(f"abhaya: the image model cannot be used: {error}", file=stderr)
        return EXIT_NO_MODEL
    cut = DEFAULT_THRESHOLD if threshold is None else threshold
    status = 0
    for path in paths:
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise OSError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
            data = path.read_bytes()
        except OSError as error:
            status = EXIT_UNCHECKED
            _write(stdout, as_json, {"path": str(path), "error": f"cannot read it: {error}"})
            continue
        scan = scanner.scan(data)
        if scan.unscannable:
            status = EXIT_UNCHECKED
            _write(stdout, as_json, {"path": str(path), "error": scan.unscannable})
            continue
        _write(stdout, as_json, _record(path, scan, cut))
    return status


def _record(path: Path, scan: ImageScan, threshold: float) -> dict[str, object]:
    return {
        "path": str(path),
        "sha256": scan.sha256,
        "format": scan.format,
        "width": scan.width,
        "height": scan.height,
        "score": None if scan.score is None else round(scan.score, 4),
        "flagged": scan.score is not None and scan.score >= threshold,
        "threshold": threshold,
        "skipped": scan.skipped,
        "pdq": scan.pdq.hex if scan.pdq is not None else None,
        "pdq_quality": scan.pdq.quality if scan.pdq is not None else None,
        "ms": round(scan.ms, 2),
    }


def _write(stdout: TextIO, as_json: bool, record: dict[str, object]) -> None:
    if as_json:
        print(json.dumps(record, ensure_ascii=False), file=stdout, flush=True)
        return
    if "error" in record:
        print(f"{record['path']}: not checked: {record['error']}", file=stdout, flush=True)
        return
    if record["skipped"]:
        print(f"{record['path']}: too small to check (under 64×64)", file=stdout, flush=True)
        return
    verdict = "FLAGGED" if record["flagged"] else "not flagged"
    print(
        f"{record['path']}: score {record['score']:.3f} ({verdict} at {record['threshold']}), "
        f"{record['format']} {record['width']}×{record['height']}, "
        f"PDQ {record['pdq']} (quality {record['pdq_quality']}), {record['ms']} ms",
        file=stdout,
        flush=True,
    )
