"""Record a newly trained head's SHA-256 in ``models/manifest.toml``, for the trainers here."""

from __future__ import annotations

import re
from pathlib import Path

MANIFEST = Path(__file__).resolve().parents[1] / "models" / "manifest.toml"


def record_in_manifest(table: str, digest: str) -> None:
    """Put `digest` in the manifest's `[table]`, so the agent loads this head and no other."""
    text = MANIFEST.read_text(encoding="utf-8")
    found = re.search(rf'(?ms)^\[{re.escape(table)}\]\n.*?^sha256 = "[0-9a-f]{{64}}"', text)
    if found is None:
        raise SystemExit(f"{MANIFEST}: no [{table}] table with a sha256 line")
    updated = re.sub(r'sha256 = "[0-9a-f]{64}"', f'sha256 = "{digest}"', found.group(0))
    MANIFEST.write_text(text[: found.start()] + updated + text[found.end() :], encoding="utf-8")
    print(f"recorded in {MANIFEST} under [{table}]")
