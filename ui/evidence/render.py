"""Render an evidence report as one self-contained HTML page for a parent and the police.

Every value on the page came from a child's traffic or a hash list (URLs, a process name, a
list label), so autoescape is on and no template marks data `|safe`; addresses are shown as
text, never as links or images, so opening the page fetches nothing, least of all the image.
StrictUndefined makes a template that names a missing value fail here, not print blanks.

`write_package` is the one writer of the evidence package: `abhaya report` and the console's
"save the report for the police" button both call it.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import jinja2

from abhaya.client.api import ClientError
from abhaya.client.evidence import (
    NO_IMAGE,
    EvidenceReport,
    report_paths,
    write_private_files,
)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(str(files("abhaya.ui.evidence") / "templates"))),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(report: EvidenceReport) -> str:
    """The report's HTML page."""
    data = report.to_dict()
    return (
        _environment()
        .get_template("evidence.html")
        .render(
            event=data["event"],
            image=data["image"],
            machine=data["machine"],
            filing=data["filing"],
            made_at=data["made_at"],
            no_image=NO_IMAGE,
        )
    )


def write_package(report: EvidenceReport, out_dir: Path) -> tuple[Path, Path]:
    """Write the report's JSON and HTML files into `out_dir` (0600, all or none, never over
    an existing file: `evidence.ReportExists`); returns their paths (JSON, HTML)."""
    if not out_dir.is_dir():
        raise ClientError(f"{out_dir}: not a folder")
    json_path, html_path = report_paths(out_dir, report.record["id"])
    write_private_files({json_path: report.to_json(), html_path: render_report(report)})
    return json_path, html_path
