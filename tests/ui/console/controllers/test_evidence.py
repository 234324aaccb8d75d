"""A known-image match, end to end into the police report the Alerts page saves.

A real in-process agent (proxy, store, control API) with a hash list built from a generated
picture's own PDQ hash; the picture is fetched through the proxy, blocked, and raises the
alert; the real console, signed in over the API, shows it, and its button writes the same
package as `abhaya report`: JSON and HTML, 0600, with the hashes and never the picture.
"""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from abhaya.models.pdq import pdq_hash
from abhaya.ui.console.app import Console
from abhaya.ui.console.service import ConsoleService
from abhaya.ui.console.texts import Texts
from tests.agent.addons.test_images import (
    SITE,
    Served,
    _jpeg,
    fetch,
    image_site,
    policy_with,
    scene_picture,
    start,
)
from tests.client.test_commands import PIN
from tests.ui.console.conftest import open_console, screenshot, sign_in

SCALES = (1.0, 1.5)


def _alert_row(qtbot: QtBot, console: Console) -> int:
    console.window.tabs.setCurrentWidget(console.alerts_view)

    def listed() -> bool:
        console.alerts.refresh()
        qtbot.wait(150)
        return any(row.event is not None for row in console.alerts.rows)

    qtbot.waitUntil(listed, timeout=10_000)
    return next(n for n, row in enumerate(console.alerts.rows) if row.event is not None)


def _save(qtbot: QtBot, console: Console, folder: Path) -> str:
    view = console.alerts_view
    chosen: list[str] = []

    def choose(parent: QWidget, title: str) -> str:
        chosen.append(title)
        return str(folder)

    view.choose_folder = choose
    saving = console.texts("evidence.saving")
    qtbot.mouseClick(view.report, Qt.MouseButton.LeftButton)
    assert chosen == [console.texts("evidence.choose_folder")]
    qtbot.waitUntil(lambda: view.message.text() not in ("", saving), timeout=10_000)
    return view.message.text()


def test_a_known_image_alert_saves_the_police_report_from_the_console(
    qtbot: QtBot, tmp_path: Path
) -> None:
    known = scene_picture(23)
    listed = pdq_hash(known)
    hashes = tmp_path / "known-images.pdq"
    hashes.write_text(f"# name: test-known\n# version: 5\n{listed.hex} case-23\n", "ascii")
    policy = policy_with(0.999, extra=f'\n[[hashlist]]\npath = "{hashes}"\ncategory = "csam"\n')
    body = _jpeg(known)
    with image_site(tmp_path) as site:
        site.routes["/known.jpg"] = Served(body, "image/jpeg")
        running = start(tmp_path / "agent", site, policy)
        try:
            data = tmp_path / "agent" / "data"
            assert fetch(running, "/known.jpg")[:2] == (200, "image/svg+xml")
            assert running.agent.services.events.flush(20)
            ConsoleService(data).set_first_pin(PIN)
            for language in ("en", "hi"):
                _check_language(qtbot, data, tmp_path / language, body, language)
        finally:
            running.stop()


def _check_language(qtbot: QtBot, data: Path, folder: Path, body: bytes, language: str) -> None:
    texts = Texts(language)
    folder.mkdir()
    console = open_console(qtbot, data, language)
    sign_in(qtbot, console)
    view = console.alerts_view
    row = _alert_row(qtbot, console)
    assert not view.report.isVisible()  # nothing chosen yet
    view.rows.choose(row)
    assert view.report.isVisible() and view.report.text() == texts("evidence.save")
    event = console.alerts.rows[row].event
    said = _save(qtbot, console, folder)
    json_path, html_path = (folder / f"abhaya-evidence-{event}.{ext}" for ext in ("json", "html"))
    assert sorted(folder.iterdir()) == sorted([json_path, html_path])
    assert said.startswith(texts("evidence.saved", json=json_path, html=html_path))
    assert "https://cybercrime.gov.in" in said and "1930" in said
    sha = hashlib.sha256(body).hexdigest()
    for path in (json_path, html_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        written = path.read_bytes()
        assert sha.encode() in written
        assert body[200:264] not in written and b"data:image" not in written
    report = json.loads(json_path.read_text(encoding="utf-8"))
    assert report["image_kept"] is False and report["event"]["id"] == event
    assert (report["image"]["sha256"], report["image"]["list"]) == (sha, "test-known")
    assert report["event"]["domain"] == SITE
    assert "cybercrime.gov.in" in html_path.read_text(encoding="utf-8")
    console.window.resize(1100, 720)
    for scale in SCALES:
        screenshot(console.window, f"alerts-evidence-{language}", scale)

    before = json_path.read_bytes()
    again = _save(qtbot, console, folder)
    assert again == texts("evidence.exists", path=json_path)
    assert json_path.read_bytes() == before
    console.close()
