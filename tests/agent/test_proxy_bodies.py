"""Bodies that no filter reads pass through whole, whatever their size (they are streamed,
with no overall size cap), and an upload to a blocked site is answered without being read."""

from __future__ import annotations

import hashlib

from tests.agent.conftest import BYTES_PATH, RunningAgent, Upstream, pattern_bytes

BIG = 48 * 1024 * 1024
"""Above mitmproxy's former caps in Abhaya (32 MiB responses, 40 MiB uploads)."""


def _pattern_digest(size: int) -> str:
    piece = pattern_bytes(1024 * 1024)
    digest = hashlib.sha256()
    for start in range(0, size, len(piece)):
        digest.update(piece[: size - start])
    return digest.hexdigest()


def test_a_large_download_arrives_whole(running: RunningAgent, upstream: Upstream) -> None:
    digest = hashlib.sha256()
    received = 0
    with (
        running.client() as client,
        client.stream("GET", f"https://localhost:{upstream.port}{BYTES_PATH}{BIG}") as answer,
    ):
        assert answer.status_code == 200
        assert answer.headers["content-length"] == str(BIG)
        for chunk in answer.iter_raw():
            digest.update(chunk)
            received += len(chunk)
    assert received == BIG
    assert digest.hexdigest() == _pattern_digest(BIG)


def test_a_large_upload_arrives_whole(running: RunningAgent, upstream: Upstream) -> None:
    with running.client() as client:
        answer = client.post(
            f"https://localhost:{upstream.port}/upload", content=pattern_bytes(1024) * (BIG // 1024)
        )
    assert answer.status_code == 200
    assert answer.json()["received"] == BIG
