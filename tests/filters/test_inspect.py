"""Which TLS connections are decrypted (`filters.inspect`): a table of name, CONNECT target,
profile and policy mode -> inspected or passed through, with the reason; and the policy
settings that feed it."""

from __future__ import annotations

from pathlib import Path

import pytest

from abhaya.filters.decide import decide
from abhaya.filters.inspect import InspectReason, image_sites, inspection
from abhaya.filters.policy.compile import CompiledPolicy, load_policy
from abhaya.filters.policy.load import PolicyError
from abhaya.filters.verdict import RequestInfo
from tests.conftest import MONDAY_MORNING, POLICY, write_policy

NEEDED = (
    POLICY
    + """
[inspect]
mode = "needed"
always = ["always.example"]
never = ["clinic.example", "games.example"]
"""
)
NO_IMAGES_FOR_TEEN = NEEDED + "[profiles.teen.images]\nenabled = false\n"
NO_CHATS_FOR_TEEN = NEEDED + "[profiles.teen.chat]\nenabled = false\n"


@pytest.fixture(scope="module")
def needed(tmp_path_factory: pytest.TempPathFactory) -> CompiledPolicy:
    return load_policy(write_policy(tmp_path_factory.mktemp("needed"), NEEDED))


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> CompiledPolicy:
    return load_policy(write_policy(tmp_path_factory.mktemp("everything"), POLICY))


def _reason(
    compiled: CompiledPolicy, name: str | None, profile: str = "child", target: str | None = ""
) -> InspectReason:
    rules = compiled.profile(profile)
    verdict = decide(RequestInfo(f"https://{name}/"), rules, MONDAY_MORNING)
    choice = inspection(name, name if target == "" else target, rules, verdict)
    assert choice.inspected is (
        choice.reason not in (InspectReason.NEVER, InspectReason.NOT_NEEDED)
    )
    return choice.reason


@pytest.mark.parametrize(
    ("name", "profile", "target", "reason"),
    [
        # plain allowed sites: by name only
        ("example.org", "child", "", InspectReason.NOT_NEEDED),
        ("www.example.org", "teen", "", InspectReason.NOT_NEEDED),
        # no name, or a name that is not where the connection goes: fail closed
        (None, "child", "example.org", InspectReason.NO_NAME),
        ("", "child", "example.org", InspectReason.NO_NAME),
        ("example.org", "child", "adult.example", InspectReason.NAME_MISMATCH),
        ("example.org", "child", "93.184.216.34", InspectReason.NAME_MISMATCH),
        ("Example.ORG.", "child", "example.org", InspectReason.NOT_NEEDED),
        # a stopped name is decrypted to show its page, even on `never`
        ("adult.example", "child", "", InspectReason.NOT_ALLOWED),
        ("custom.example", "child", "", InspectReason.NOT_ALLOWED),
        ("games.example", "child", "", InspectReason.NOT_ALLOWED),  # warn, and on `never`
        ("adult.example", "teen", "", InspectReason.NOT_NEEDED),  # the teen's category is off
        # never (the `[inspect] never` list and the older `passthrough`)
        ("bank.example", "child", "", InspectReason.NEVER),
        ("www.clinic.example", "child", "", InspectReason.NEVER),
        ("always.example", "child", "", InspectReason.ALWAYS),
        # search engines and safe search: by the engine data, for every profile
        ("www.bing.com", "child", "", InspectReason.SEARCH),
        ("www.bing.com", "teen", "", InspectReason.SEARCH),
        ("duckduckgo.com", "child", "", InspectReason.SEARCH),
        ("www.google.co.in", "teen", "", InspectReason.SEARCH),
        ("www.youtube.com", "child", "", InspectReason.SEARCH),  # a safe-search rewrite by name
        # URL-path rules: the profile's block paths, category URL lists
        ("wiki.example", "child", "", InspectReason.PATH_RULES),
        ("wiki.example", "teen", "", InspectReason.NOT_NEEDED),  # only the child's rule
        ("news.example", "teen", "", InspectReason.PATH_RULES),  # violence URL list
        ("www.news.example", "child", "", InspectReason.PATH_RULES),
        # chat sites, while the profile's chats are read
        ("discord.com", "child", "", InspectReason.CHAT),
        ("gateway.discord.gg", "teen", "", InspectReason.CHAT),
        # image sites, while images are screened
        ("www.instagram.com", "child", "", InspectReason.SEARCH),  # its search box
        ("pbs.twimg.com", "child", "", InspectReason.IMAGES),
        ("i.imgur.com", "teen", "", InspectReason.IMAGES),
        ("scontent.cdninstagram.com", "child", "", InspectReason.IMAGES),
    ],
)
def test_needed_mode_decrypts_only_where_a_check_must_look(
    needed: CompiledPolicy,
    name: str | None,
    profile: str,
    target: str | None,
    reason: InspectReason,
) -> None:
    assert _reason(needed, name, profile, target) is reason


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("example.org", InspectReason.EVERYTHING),
        ("www.bing.com", InspectReason.EVERYTHING),
        ("bank.example", InspectReason.NEVER),  # `never` holds in every mode
        ("adult.example", InspectReason.NOT_ALLOWED),
        (None, InspectReason.NO_NAME),
    ],
)
def test_a_policy_without_inspect_decrypts_everything_but_never(
    everything: CompiledPolicy, name: str | None, reason: InspectReason
) -> None:
    assert _reason(everything, name, target="example.org" if name is None else "") is reason


def test_a_profile_whose_images_are_not_screened_leaves_image_sites_alone(tmp_path: Path) -> None:
    compiled = load_policy(write_policy(tmp_path, NO_IMAGES_FOR_TEEN))
    assert _reason(compiled, "i.imgur.com", "teen") is InspectReason.NOT_NEEDED
    assert _reason(compiled, "i.imgur.com", "child") is InspectReason.IMAGES


def test_known_image_lists_screen_image_sites_for_every_profile(tmp_path: Path) -> None:
    policy = NO_IMAGES_FOR_TEEN + '[[hashlist]]\npath = "lists/known.txt"\ncategory = "csam"\n'
    lists = {**_lists(), "lists/known.txt": "# name: test\n"}
    compiled = load_policy(write_policy(tmp_path, policy, lists))
    assert _reason(compiled, "i.imgur.com", "teen") is InspectReason.IMAGES


def test_a_profile_whose_chats_are_not_read_leaves_chat_sites_alone(tmp_path: Path) -> None:
    compiled = load_policy(write_policy(tmp_path, NO_CHATS_FOR_TEEN))
    assert _reason(compiled, "discord.com", "teen") is InspectReason.NOT_NEEDED
    assert _reason(compiled, "discord.com", "child") is InspectReason.CHAT


def test_the_default_policy_looks_inside_only_where_needed() -> None:
    compiled = load_policy()
    assert _reason(compiled, "example.org") is InspectReason.NOT_NEEDED
    assert _reason(compiled, "www.google.com") is InspectReason.SEARCH
    assert _reason(compiled, "netbanking.hdfcbank.com") is InspectReason.NEVER


@pytest.mark.parametrize("setting", ["always", "never"])
def test_inspect_lists_hold_domains_not_paths(tmp_path: Path, setting: str) -> None:
    policy = POLICY + f'[inspect]\n{setting} = ["site.example/page"]\n'
    with pytest.raises(PolicyError, match="inspect: entries are domains, not paths"):
        load_policy(write_policy(tmp_path, policy))


def test_an_unknown_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="mode"):
        load_policy(write_policy(tmp_path, POLICY + '[inspect]\nmode = "some"\n'))


def test_the_reason_is_said_in_words(needed: CompiledPolicy) -> None:
    rules = needed.profile()
    verdict = decide(RequestInfo("https://example.org/"), rules, MONDAY_MORNING)
    choice = inspection("example.org", "example.org", rules, verdict)
    assert choice.sentence == (
        "not inspected (passed through): nothing needs to look inside; "
        "the site is still filtered by name"
    )


def test_the_shipped_image_sites_cover_their_image_hosts() -> None:
    sites = image_sites()
    assert sites.match("pbs.twimg.com") == "twimg.com"
    assert sites.match("example.org") is None


def _lists() -> dict[str, str]:
    from tests.conftest import LISTS

    return dict(LISTS)
