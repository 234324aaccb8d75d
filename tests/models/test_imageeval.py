"""The arithmetic of `abhaya eval images`, on hand-made scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from abhaya.models.imageeval import (
    SWEEP,
    LabelFileError,
    LabelledImage,
    Scored,
    evaluate,
    parse_labels,
)


def _scored(explicit: bool, score: float) -> Scored:
    return Scored(LabelledImage(Path("x.png"), explicit), score)


def test_precision_recall_and_false_positives_at_and_around_the_threshold() -> None:
    scored = [_scored(True, 0.9), _scored(True, 0.4), _scored(False, 0.5), _scored(False, 0.1)]
    report = evaluate(scored, {"truncated": 2}, 1, threshold=0.45)
    at = report.at_threshold
    assert (at.precision, at.recall, at.false_positive_rate, at.flagged) == (0.5, 0.5, 0.5, 2)
    by_threshold = {figures.threshold: figures for figures in report.sweep}
    assert tuple(by_threshold) == SWEEP and SWEEP[0] == 0.1 and SWEEP[-1] == 0.95
    assert by_threshold[0.4].recall == 1.0 and by_threshold[0.4].flagged == 3
    assert by_threshold[0.55].precision == 1.0 and by_threshold[0.55].false_positive_rate == 0.0
    assert report.as_json()["unscannable"] == {"truncated": 2} and report.skipped == 1


def test_labels_accept_digits_and_words_and_keep_paths_inside_the_folder(tmp_path: Path) -> None:
    text = "path,label\na.png,1\nsub/b.jpg,benign\n\nc.gif,EXPLICIT\nd.webp,0\n"
    images = parse_labels(text, "labels.csv", tmp_path)
    assert [(image.path, image.explicit) for image in images] == [
        (tmp_path / "a.png", True),
        (tmp_path / "sub" / "b.jpg", False),
        (tmp_path / "c.gif", True),
        (tmp_path / "d.webp", False),
    ]


@pytest.mark.parametrize(
    "text", ["", "path\n", "path,label\nsub/../../x.png,1\n", "path,label\n,1\n"]
)
def test_a_wrong_file_is_refused_whole(text: str, tmp_path: Path) -> None:
    with pytest.raises(LabelFileError):
        parse_labels(text, "labels.csv", tmp_path)


def test_screen_misses_count_what_the_screen_passed_and_the_float_model_flags() -> None:
    """A miss is made up here (the float model flagging what the screen let through): real
    ones would need the screen to err by more than its margin."""
    scored = [
        Scored(LabelledImage(Path("a.png"), True), 0.9, screened_clear=True),
        Scored(LabelledImage(Path("b.png"), False), 0.01, screened_clear=True),
        Scored(LabelledImage(Path("c.png"), True), 0.95),
    ]
    report = evaluate(scored, {}, 0, threshold=0.8)
    assert (report.screened_clear, report.screen_misses) == (2, 1)
    assert report.as_json()["screen"] == {"clear": 2, "misses": 1}
    assert "2 decided by it, 1 of them flagged by the float model" in report.table()
