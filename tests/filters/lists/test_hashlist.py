"""Reading PDQ hash lists: hashes with and without labels, comments, the name and version
header, and bad lines skipped and reported with file and line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from abhaya.filters.lists.hashlist import parse_hash_list
from abhaya.filters.lists.parse import ListLoadError

A = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
B = "0123456789abcdef" * 4


def write(tmp_path: Path, text: str, name: str = "known.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_hashes_labels_comments_and_header(tmp_path: Path) -> None:
    text = (
        "# name: example-known\n"
        "# version: 2026-11-30\n"
        "# a comment\n"
        "\n"
        f"{A}  case 17/a\n"
        f"   {B.upper()}\n"
        "# name: not a header any more\n"
        f"{B[:-1]}0\tfrom the tab\n"
    )
    parsed = parse_hash_list(write(tmp_path, text))
    assert (parsed.name, parsed.version) == ("example-known", "2026-11-30")
    assert [bytes(row).hex() for row in parsed.hashes] == [A, B, B[:-1] + "0"]
    assert parsed.labels == ("case 17/a", "", "from the tab")
    assert parsed.problems == ()


def test_without_a_header_the_file_names_the_list_and_its_digest_versions_it(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, f"{A}\n", "school-list.txt")
    parsed = parse_hash_list(path)
    assert parsed.name == "school-list"
    assert parsed.version == hashlib.sha256(path.read_bytes()).hexdigest()[:12]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("z" * 64, "not a hexadecimal PDQ hash"),
        (A[:-2], "64 hex digits, not 62"),
        (A + "00", "64 hex digits, not 66"),
        ("0x" + A[2:], "not a hexadecimal PDQ hash"),
        (A + " label\x07bell", "label is not printable"),
    ],
)
def test_a_bad_line_is_skipped_and_reported_with_file_and_line(
    tmp_path: Path, line: str, message: str
) -> None:
    path = write(tmp_path, f"# name: x\n{B}\n{line}\n{A}\n")
    parsed = parse_hash_list(path)
    assert [bytes(row).hex() for row in parsed.hashes] == [B, A]
    [problem] = parsed.problems
    assert (problem.file, problem.line) == (str(path), 3)
    assert message in problem.message
    assert str(problem).startswith(f"{path}:3: ")


def test_undecodable_bytes_are_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "known.txt"
    path.write_bytes(A.encode()[:-1] + b"\xff\n" + B.encode() + b"\n")
    parsed = parse_hash_list(path)
    assert len(parsed.hashes) == 1
    assert parsed.problems[0].line == 1
    assert parsed.problems[0].message == "not valid UTF-8"


def test_a_hash_listed_twice_is_kept_once_with_its_first_label(tmp_path: Path) -> None:
    parsed = parse_hash_list(write(tmp_path, f"{A} first\n{A.upper()} second\n"))
    assert parsed.labels == ("first",)
    assert parsed.duplicates == 1


def test_an_empty_list_is_a_list(tmp_path: Path) -> None:
    parsed = parse_hash_list(write(tmp_path, "# name: nothing yet\n"))
    assert parsed.hashes.shape == (0, 32)


def test_an_unreadable_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ListLoadError, match="absent.txt"):
        parse_hash_list(tmp_path / "absent.txt")
