"""`abhaya eval images`: a generated, benign folder and its labels CSV; the positive path is
exercised by configuration (a low `--threshold` and labels that call some benign images
explicit), never with explicit content."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from abhaya.agent.cli import main
from tests.models.benignimages import (
    cartoon_faces,
    encoded,
    gradients,
    skin_shapes,
    text_images,
    web_pages,
)

ABHAYA = [sys.executable, "-m", "abhaya.agent.cli"]
# Scores of these generated images (bench/images, tests/models/test_imagemodel.py): the first
# three 0.21-0.38, the others under 0.07; labelled "explicit" here by configuration only.
CALLED_EXPLICIT = ("gradient-v0", "skin-flat1", "skin-flat2")
BENIGN = ("webpage0", "cartoon-face0", "text0")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("labelled")
    (root / "set").mkdir()
    pictures = dict(
        item
        for make in (gradients, skin_shapes, web_pages, cartoon_faces, text_images)
        for item in make()
    )
    rows = ["path,label"]
    for name in CALLED_EXPLICIT:
        (root / "set" / f"{name}.png").write_bytes(encoded(pictures[name], "PNG"))
        rows.append(f"set/{name}.png,{'1' if name.startswith('g') else 'explicit'}")
    for name in BENIGN:
        (root / "set" / f"{name}.jpg").write_bytes(encoded(pictures[name], "JPEG"))
        rows.append(f"set/{name}.jpg,{'0' if name.startswith('w') else 'benign'}")
    whole = encoded(pictures["webpage1"], "JPEG")
    (root / "cut.jpg").write_bytes(whole[: len(whole) // 2])
    (root / "old.bmp").write_bytes(encoded(pictures["webpage1"], "BMP"))
    (root / "icon.png").write_bytes(encoded(Image.new("RGB", (32, 32), (1, 2, 3)), "PNG"))
    rows += ["cut.jpg,0", "old.bmp,1", "icon.png,0"]
    (root / "labels.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def test_a_low_threshold_finds_what_the_labels_call_explicit(folder: Path) -> None:
    result = subprocess.run(
        [*ABHAYA, "eval", "images", str(folder), "--labels", str(folder / "labels.csv"),
         "--threshold", "0.15", "--json"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert report["scored"] == {"explicit": 3, "benign": 3}
    assert report["unscannable"] == {"truncated": 1, "unsupported format": 1}
    assert report["skipped"] == 1
    assert report["at_threshold"] == {
        "threshold": 0.15, "precision": 1.0, "recall": 1.0, "false_positive_rate": 0.0,
        "flagged": 3,
    }  # fmt: skip
    sweep = {row["threshold"]: row for row in report["sweep"]}
    assert list(sweep) == [round(0.1 + 0.05 * n, 2) for n in range(18)]
    assert sweep[0.95]["recall"] == 0.0 and sweep[0.95]["flagged"] == 0
    assert sweep[0.95]["precision"] == 1.0  # nothing flagged: no false alarm either


def test_at_the_default_threshold_nothing_here_is_flagged(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "images", str(folder), "--labels", str(folder / "labels.csv")]) == 0
    table = capsys.readouterr().out
    assert "scored: 3 explicit, 3 benign; skipped (under 64×64): 1; unscannable: 2" in table
    assert "| 0.80 (default) | 1.000 | 0.000 | 0.000 | 0 |" in table


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ("file,label\nset/a.png,1\n", "labels.csv:1: the header must be path,label"),
        ("path,label\nset/text0.jpg,maybe\n", "labels.csv:2: the label must be 1, 0"),
        ("path,label\n../outside.png,0\n", "labels.csv:2: the path must be relative"),
        ("path,label\n/etc/hostname,0\n", "labels.csv:2: the path must be relative"),
        ("path,label\nset/text0.jpg\n", "labels.csv:2: expected path,label"),
        ("path,label\nset/missing.png,0\n", "cannot read"),
    ],
)
def test_a_wrong_labels_file_is_refused_with_its_line(
    folder: Path, tmp_path: Path, labels: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "labels.csv"
    csv.write_text(labels, encoding="utf-8")
    assert main(["eval", "images", str(folder), "--labels", str(csv)]) == 2
    assert message in capsys.readouterr().err


def test_a_threshold_outside_0_to_1_is_refused(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = str(folder / "labels.csv")
    assert main(["eval", "images", str(folder), "--labels", labels, "--threshold", "1.5"]) == 2
    assert "threshold" in capsys.readouterr().err


# `abhaya classify-image`: the same folder, one line (or JSON object) a file.


def test_classify_image_writes_the_json_contract_in_order(folder: Path) -> None:
    files = [folder / "set" / f"{name}.png" for name in CALLED_EXPLICIT] + [
        folder / "cut.jpg",
        folder / "icon.png",
    ]
    result = subprocess.run(
        [*ABHAYA, "classify-image", "--json", "--threshold", "0.15", *map(str, files)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1  # one file could not be checked
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["path"] for record in records] == [str(path) for path in files]
    for record in records[:3]:
        assert record["flagged"] is True and record["threshold"] == 0.15
        assert 0.15 <= record["score"] <= 1 and record["format"] == "png"
        assert len(record["pdq"]) == 64 and 0 <= record["pdq_quality"] <= 100
        assert len(record["sha256"]) == 64 and record["ms"] >= 0
    assert records[3] == {"path": str(files[3]), "error": "truncated"}
    assert records[4]["skipped"] is True and records[4]["score"] is None


def test_classify_image_reads_plainly_at_the_default_threshold(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = folder / "set" / "webpage0.jpg"
    assert main(["classify-image", str(path), str(folder / "missing.jpg")]) == 1
    first, second = capsys.readouterr().out.splitlines()
    assert first.startswith(f"{path}: score ") and "(not flagged at 0.8)" in first
    assert "PDQ " in first and "jpeg" in first
    assert second.startswith(f"{folder / 'missing.jpg'}: not checked: cannot read it")
