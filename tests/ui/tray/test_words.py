"""The tray's language follows the desktop's locale as gettext reads it."""

from __future__ import annotations

import pytest

from abhaya.ui.tray.words import count_text, language_from_environment


@pytest.mark.parametrize(
    ("environ", "language"),
    [
        ({}, "en"),
        ({"LANG": "hi_IN.UTF-8"}, "hi"),
        ({"LANG": "en_IN.UTF-8"}, "en"),
        ({"LANGUAGE": "hi:en", "LANG": "en_US.UTF-8"}, "hi"),
        ({"LC_ALL": "en_GB.UTF-8", "LANG": "hi_IN.UTF-8"}, "en"),
        ({"LANGUAGE": "", "LC_MESSAGES": "hi_IN"}, "hi"),
    ],
)
def test_the_first_locale_variable_set_decides(environ: dict[str, str], language: str) -> None:
    assert language_from_environment(environ) == language


def test_counts_are_singular_for_one() -> None:
    assert count_text("en", "requests", 1) == "1 request waiting"
    assert count_text("en", "alerts", 3) == "3 alerts"
