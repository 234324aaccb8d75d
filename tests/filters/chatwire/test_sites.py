"""The chat sites file: which hosts are read, by which adapter, and refusals that name the line."""

from __future__ import annotations

import pytest

from abhaya.filters.chatwire.sites import ChatSites, ChatSitesError, parse_sites


@pytest.mark.parametrize(
    ("host", "path", "websocket", "site"),
    [
        ("discord.com", "/api/v9/channels/1/messages", False, "discord"),
        ("ptb.discord.com", "/api/v9/channels/1/messages", False, "discord"),
        ("gateway.discord.gg", "/", True, "discord"),
        ("Gateway.Discord.GG.", "/", True, "discord"),
        ("discord.com", "/channels/@me", False, None),
        ("notdiscord.com", "/api/v9/channels/1/messages", False, None),
        ("slack.com", "/api/chat.postMessage", False, "slack"),
        ("wss-primary.slack.com", "/", True, "slack"),
        ("example.org", "/", True, None),
    ],
)
def test_shipped_sites(host: str, path: str, websocket: bool, site: str | None) -> None:
    sites = ChatSites.load_default()
    found = sites.for_websocket(host, path) if websocket else sites.for_request(host, path)
    assert (found.name if found is not None else None) == site


GOOD = """\
[[site]]
name = "one"
adapter = "json"
hosts = ["one.example"]
paths = ["/send"]
evidence = "observed"
note = "a test entry, observed"
"""


def test_a_valid_file_compiles() -> None:
    sites = parse_sites(GOOD, "sites.toml")
    assert sites.for_request("www.one.example", "/send").name == "one"  # type: ignore[union-attr]
    assert sites.for_websocket("www.one.example", "/send") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD + GOOD.replace('adapter = "json"', 'adapter = "irc"'),
            "sites.toml:10: site.1.adapter",
        ),
        (
            GOOD.replace('evidence = "observed"\n', ""),
            "sites.toml:1: site.0.evidence: Field required",
        ),
        (
            GOOD.replace('hosts = ["one.example"]', 'hosts = ["ONE example"]'),
            "sites.toml:1: site 'one': bad host pattern",
        ),
        (
            GOOD.replace('paths = ["/send"]', 'paths = ["send"]'),
            "sites.toml:1: site 'one': bad path pattern",
        ),
        (GOOD.replace('paths = ["/send"]\n', ""), "sites.toml:1: site 'one' reads nothing"),
        (GOOD + "colour = 1\n", "sites.toml:8: site.0.colour: Extra inputs"),
        ("[[site]\n", "sites.toml: not valid TOML"),
    ],
)
def test_bad_files_are_refused_with_file_and_line(text: str, message: str) -> None:
    with pytest.raises(ChatSitesError) as refused:
        parse_sites(text, "sites.toml")
    assert message in str(refused.value)
