"""A school's own policies.json: merged at apply time, put back byte for byte on uninstall, and a
broken one refused and left alone."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

import pytest

from abhaya.installer.browsers.mergejson import MergePolicies
from abhaya.installer.host import Host, InstallError
from abhaya.installer.plan import Plan, Section, apply_plan, uninstall
from abhaya.installer.steps import MakeDir
from tests.installer.browsers.conftest import snapshot

TARGET = PurePosixPath("/etc/firefox/policies/policies.json")
OURS = {
    "DNSOverHTTPS": {"Enabled": False, "Locked": True},
    "Certificates": {"Install": ["/usr/local/share/ca-certificates/abhaya-ca.crt"]},
    "DisablePrivateBrowsing": True,
}
# Tabs, odd spacing, no final newline, non-ASCII: nothing a re-encoder would keep.
SCHOOL = (
    b'{\t"policies" : {"BlockAboutConfig":true,\n\t"DisablePrivateBrowsing": false,'
    b'\n\t"Certificates": {"Install": ["school-ca.der"]},'
    b'\n\t"Homepage": {"URL": "https://\xc3\xa9cole.example/"}},\n"comment": "ours"}'
)


def plan(policies: dict[str, object] | None = None) -> Plan:
    step = MergePolicies(TARGET, dict(policies or OURS), "merge")  # type: ignore[arg-type]
    folders = (
        MakeDir(PurePosixPath("/etc/firefox"), "folder"),
        MakeDir(PurePosixPath("/etc/firefox/policies"), "folder"),
    )
    return Plan((Section("Firefox", (*folders, step)),))


def school_file(host: Host, content: bytes = SCHOOL) -> None:
    path = host.path(TARGET)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    path.chmod(0o640)


def test_school_keys_are_kept_and_ours_added(host: Host) -> None:
    school_file(host)
    apply_plan(plan(), host)
    merged = json.loads(host.path(TARGET).read_text(encoding="utf-8"))
    assert merged["comment"] == "ours"
    policies = merged["policies"]
    assert policies["BlockAboutConfig"] is True
    assert policies["Homepage"] == {"URL": "https://école.example/"}
    assert policies["DNSOverHTTPS"] == {"Enabled": False, "Locked": True}
    assert policies["DisablePrivateBrowsing"] is True  # the profile wins over the school's false
    # The school's own CA stays trusted beside the agent's.
    assert policies["Certificates"]["Install"] == [
        "school-ca.der",
        "/usr/local/share/ca-certificates/abhaya-ca.crt",
    ]


def test_uninstall_puts_the_original_back_byte_for_byte(host: Host) -> None:
    school_file(host)
    before = snapshot(host.root)
    apply_plan(plan(), host)
    apply_plan(plan(), host)  # twice: the original kept is still the school's, not ours
    assert uninstall(host).failed == []
    assert host.path(TARGET).read_bytes() == SCHOOL
    assert snapshot(host.root) == before


@pytest.mark.parametrize(
    "content",
    [b'{"policies": {"BlockAboutConfig": true,}}', b"\xff\xfe", b'["policies"]',
     b'{"policies": []}'],
    ids=["trailing-comma", "not-utf8", "not-an-object", "policies-not-an-object"],
)  # fmt: skip
def test_a_broken_file_is_refused_and_left_untouched(host: Host, content: bytes) -> None:
    school_file(host, content)
    before = snapshot(host.root)
    with pytest.raises(InstallError) as refused:
        apply_plan(plan(), host)
    message = str(refused.value)
    assert str(TARGET) in message and "left it untouched" in message
    assert host.path(TARGET).read_bytes() == content
    # The folders this run made were rolled back too.  (The core keeps an empty journal after
    # a rollback: that is its own record, not the machine's state.)
    after = {k: v for k, v in snapshot(host.root).items() if "abhaya-install" not in k}
    assert after == before


def test_an_edit_after_install_survives_uninstall(host: Host) -> None:
    school_file(host)
    apply_plan(plan(), host)
    edited = json.loads(host.path(TARGET).read_text(encoding="utf-8"))
    edited["policies"]["DisableTelemetry"] = True
    host.path(TARGET).write_text(json.dumps(edited), encoding="utf-8")
    assert uninstall(host).failed == []
    policies = json.loads(host.path(TARGET).read_text(encoding="utf-8"))["policies"]
    assert policies["DisableTelemetry"] is True  # the parents' later edit is kept
    assert policies["DisablePrivateBrowsing"] is False  # the school's own value is back
    assert "DNSOverHTTPS" not in policies  # Abhaya's key is gone
    assert policies["Certificates"] == {"Install": ["school-ca.der"]}


def test_no_file_before_means_no_file_after(host: Host) -> None:
    before = snapshot(host.root)
    apply_plan(plan(), host)
    assert json.loads(host.path(TARGET).read_text(encoding="utf-8")) == {"policies": OURS}
    assert uninstall(host).failed == []
    assert snapshot(host.root) == before


def test_uninstall_twice_succeeds(host: Host) -> None:
    school_file(host)
    apply_plan(plan(), host)
    assert uninstall(host).failed == []
    assert uninstall(host).failed == []
    assert host.path(TARGET).read_bytes() == SCHOOL


def test_the_dry_run_shows_the_keys_without_reading_the_file(host: Host) -> None:
    school_file(host, b"not json at all")
    shown = plan().render()  # describing never reads the machine
    assert str(TARGET) in shown and '"DNSOverHTTPS": {' in shown
