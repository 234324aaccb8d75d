"""`abhaya doctor`'s check names in the console's words: the real Linux checks, run against a
scratch root (where every one of them fails and so is named), plus the names only a healthy or
half-installed machine gives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from abhaya.installer.commands import run_checks
from abhaya.installer.host import Host
from abhaya.installer.settings import InstallSettings, TargetOS
from abhaya.ui.console.checknames import check_name
from abhaya.ui.console.texts import Texts

OTHER_NAMES = (
    "the CA's key is readable by the agent's account only",
    "the CA's public copy is in place",
    "the CA's public copy is the agent's certificate",
    "the system trusts the CA",
    "asha's Chromium and Chrome trust the CA",
    "new accounts' Chromium and Chrome trust the CA",
    "the service is enabled",
    "the service is active",
    "the checks could run",
)
DEVANAGARI = re.compile("[\u0900-\u097f]")


@pytest.fixture(scope="module")
def names(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ...]:
    root = tmp_path_factory.mktemp("machine") / "root"
    (root / "var" / "lib").mkdir(parents=True)
    (root / "etc").mkdir()
    checks = run_checks(InstallSettings(TargetOS.LINUX, ("abhaya",)), Host(root=root))
    assert len(checks) >= 10 and not any(check.ok for check in checks)
    return tuple(check.name for check in checks) + OTHER_NAMES


def test_every_check_name_has_hindi_words(names: tuple[str, ...]) -> None:
    hindi = Texts("hi")
    for name in names:
        shown = check_name(name, hindi)
        assert shown != name and DEVANAGARI.search(shown), name


def test_the_english_words_are_the_installers_own(names: tuple[str, ...]) -> None:
    english = Texts("en")
    for name in names:
        assert check_name(name, english) == name


def test_values_in_a_name_are_carried_over() -> None:
    hindi = Texts("hi")
    assert "127.0.0.1:8080" in check_name("the agent's proxy answers on 127.0.0.1:8080", hindi)
    assert "Microsoft Edge" in check_name("Microsoft Edge has Abhaya's policies", hindi)
    assert "asha" in check_name("asha's Chromium and Chrome trust the CA", hindi)
    path = Path("/etc/systemd/system/abhaya.service")
    assert str(path) in check_name(f"the service's unit {path} is as the install wrote it", hindi)


def test_a_name_the_console_does_not_know_is_shown_as_it_is() -> None:
    assert check_name("a newer installer's check", Texts("hi")) == "a newer installer's check"
