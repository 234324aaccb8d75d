"""Compiling a policy: profiles chosen by OS user (`users = [...]`), list and allow entries
that are public suffixes covering that host only, and known-image hash lists (`[[hashlist]]`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from abhaya.filters.decide import decide
from abhaya.filters.pdqmatch import MatchStatus, PdqHash
from abhaya.filters.policy.compile import CompiledPolicy, load_policy
from abhaya.filters.policy.load import PolicyError
from abhaya.filters.policy.model import ImageAction, UnscannableAction
from abhaya.filters.verdict import Action, RequestInfo
from tests.conftest import MONDAY_MORNING, POLICY, write_policy

WITH_USERS = POLICY.replace(
    "[profiles.teen]\n", '[profiles.teen]\nusers = ["ravi", "Meera"]\n'
).replace("[profiles.night]\n", '[profiles.night]\nusers = ["asha"]\n')


@pytest.mark.parametrize(
    ("user", "profile"),
    [
        ("ravi", "teen"),
        ("Meera", "teen"),
        ("asha", "night"),
        ("meera", "child"),  # account names are matched exactly
        ("guest", "child"),  # named by no profile: the default
        ("", "child"),  # the connection could not be attributed: the default
    ],
)
def test_each_user_gets_the_profile_that_names_it(tmp_path: Path, user: str, profile: str) -> None:
    compiled = load_policy(write_policy(tmp_path, WITH_USERS))
    assert compiled.profile_for_user(user) is compiled.profiles[profile]


def test_without_users_everybody_gets_the_default(tmp_path: Path) -> None:
    compiled = load_policy(write_policy(tmp_path))
    assert dict(compiled.users) == {}
    assert compiled.profile_for_user("ravi") is compiled.profile()


PLATFORM_POLICY = """\
version = 1
default_profile = "child"
passthrough = ["bank.example", "blogspot.com"]
[categories.adult]
action = "block"
[profiles.child]
allow = ["school.example", "github.io", "vercel.app/docs"]
block = ["pages.dev"]
[[blocklist]]
path = "lists/adult.txt"
category = "adult"
[[allowlist]]
path = "lists/allow.txt"
"""
LISTS = {
    # A crawled list that names the platforms themselves next to sites on them.
    "lists/adult.txt": "adult.example\nblogspot.com\nadult.blogspot.com\nco.uk\n"
    "adult.github.io\nadult.vercel.app\n",
    # An allow list that names a platform would allow every site on it.
    "lists/allow.txt": "vercel.app\nlibrary.example\n",
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> CompiledPolicy:
    return load_policy(write_policy(tmp_path_factory.mktemp("policy"), PLATFORM_POLICY, LISTS))


@pytest.mark.parametrize(
    ("url", "action", "rule"),
    [
        ("https://blogspot.com/", Action.BLOCK, "blogspot.com"),
        ("https://someones-blog.blogspot.com/", Action.ALLOW, ""),
        ("https://adult.blogspot.com/", Action.BLOCK, "adult.blogspot.com"),
        ("https://www.bbc.co.uk/", Action.ALLOW, ""),
        ("https://www.adult.example/", Action.BLOCK, "adult.example"),
        # A platform in an allow list or in a profile's allow does not allow its sites.
        ("https://adult.github.io/", Action.BLOCK, "adult.github.io"),
        ("https://github.io/", Action.ALLOW, "github.io"),
        ("https://adult.vercel.app/", Action.BLOCK, "adult.vercel.app"),
        ("https://vercel.app/", Action.ALLOW, "vercel.app"),
        ("https://vercel.app/docs/x", Action.ALLOW, "vercel.app/docs"),
        ("https://adult.vercel.app/docs/x", Action.BLOCK, "adult.vercel.app"),
        ("https://www.library.example/", Action.ALLOW, "library.example"),
        # A profile's own block entry is the parent's choice and is kept as written.
        ("https://anything.pages.dev/", Action.BLOCK, "pages.dev"),
    ],
)
def test_public_suffix_entries_cover_that_host_only(
    compiled: CompiledPolicy, url: str, action: Action, rule: str
) -> None:
    verdict = decide(RequestInfo(url), compiled.profile(), MONDAY_MORNING)
    assert (verdict.action, verdict.rule) == (action, rule)


def test_passthrough_of_a_platform_covers_that_host_only(compiled: CompiledPolicy) -> None:
    passthrough = compiled.book.inspect.never
    assert passthrough.match("blogspot.com") == "blogspot.com"
    assert passthrough.match("someones-blog.blogspot.com") is None
    assert passthrough.match("www.bank.example") == "bank.example"


def test_narrowed_entries_are_reported_per_list_and_setting(
    compiled: CompiledPolicy, tmp_path: Path
) -> None:
    notices = compiled.notices
    assert len(notices) == 4, notices
    adult, allow, passthrough, profile_allow = notices
    assert "adult.txt: 2 entries name a public suffix" in adult
    assert adult.endswith(": blogspot.com, co.uk")
    assert "allow.txt: 1 entry names a public suffix" in allow
    assert allow.endswith(": vercel.app")
    assert passthrough.endswith(
        "policy.toml: inspect.never: 1 entry names a public suffix"
        " (a platform whose sites belong to others, or a top-level"
        " domain); each covers that exact host only, not the sites"
        " under it: blogspot.com"
    )
    assert "profiles.child.allow: 2 entries" in profile_allow
    assert profile_allow.endswith(": github.io, vercel.app/docs")
    assert compiled.problems == ()  # notices are not skipped lines


def test_a_policy_without_platform_entries_has_no_notices(tmp_path: Path) -> None:
    assert load_policy(write_policy(tmp_path)).notices == ()


CHAT_SITES = """
[chat]
enabled = true

[[chat.sites]]
host = "kidchat.example"
paths = ["/api/send"]
websocket_paths = ["/live"]
text_fields = ["say"]
thread_fields = ["group"]

[[chat.sites]]
host = "slack.com"
name = "work_chat"
"""


def test_chat_sites_of_the_policy_are_read_first(tmp_path: Path) -> None:
    chat = load_policy(write_policy(tmp_path, POLICY + CHAT_SITES)).book.chat
    assert chat.enabled
    added = chat.sites.for_request("www.kidchat.example", "/api/send")
    assert added is not None and added.name == "kidchat.example"
    assert (added.fields.text, added.fields.thread) == (("say",), ("group",))
    assert added.fields.sender == ("sender", "from", "direction", "author")  # the common ones
    assert chat.sites.for_websocket("kidchat.example", "/live") is added
    assert chat.sites.for_request("kidchat.example", "/other") is None
    # The parent's entry wins over Abhaya's for its host; Abhaya's own sites stay.
    assert chat.sites.for_websocket("wss-primary.slack.com", "/").name == "work_chat"  # type: ignore[union-attr]
    assert chat.sites.for_websocket("gateway.discord.gg", "/").name == "discord"  # type: ignore[union-attr]


def test_chat_is_read_by_default_and_can_be_turned_off(tmp_path: Path) -> None:
    assert load_policy(write_policy(tmp_path / "on", POLICY)).book.chat.enabled
    off = load_policy(write_policy(tmp_path / "off", POLICY + "\n[chat]\nenabled = false\n"))
    assert not off.book.chat.enabled


def test_each_profile_watches_chats_with_the_policys_rules_or_its_own(tmp_path: Path) -> None:
    text = POLICY.replace("[profiles.teen]\n", "[profiles.teen]\nchat = { grooming_alert = 4.5 }\n")
    text += "\n[chat]\ngrooming_alert = 2.5\nthresholds = { secrecy = 0.6 }\n"
    text += "\n[profiles.parent]\n[profiles.parent.chat]\nenabled = false\n"
    compiled = load_policy(write_policy(tmp_path, text))
    child, teen, parent = (compiled.profile(name).chat for name in ("child", "teen", "parent"))
    assert (child.enabled, child.grooming_alert, dict(child.thresholds)) == (
        True,
        2.5,
        {"secrecy": 0.6},
    )
    assert (teen.enabled, teen.grooming_alert) == (True, 4.5)
    assert not parent.enabled


def test_turning_chat_off_turns_it_off_for_every_profile(tmp_path: Path) -> None:
    compiled = load_policy(write_policy(tmp_path, POLICY + "\n[chat]\nenabled = false\n"))
    assert not any(rules.chat.enabled for rules in compiled.profiles.values())
    default = load_policy(write_policy(tmp_path / "default", POLICY)).profile().chat
    assert (default.enabled, default.grooming_alert, dict(default.thresholds)) == (True, None, {})
    assert default.keep_text
    quiet = POLICY + "\n[chat]\nkeep_text = false\n"
    assert not load_policy(write_policy(tmp_path / "quiet", quiet)).profile().chat.keep_text


def test_each_profile_screens_images_with_the_policys_settings_or_its_own(tmp_path: Path) -> None:
    text = POLICY.replace(
        "[profiles.teen]\n", '[profiles.teen]\nimages = { threshold = 0.9, action = "log" }\n'
    )
    text += '\n[images]\nthreshold = 0.7\naction = "block"\nunscannable = "allow"\n'
    text += "page_share = 0.8\npage_min_images = 3\n"
    text += "\n[profiles.parent]\n[profiles.parent.images]\nenabled = false\n"
    compiled = load_policy(write_policy(tmp_path, text))
    child, teen, parent = (compiled.profile(name).images for name in ("child", "teen", "parent"))
    assert (child.enabled, child.threshold, child.action) == (True, 0.7, ImageAction.BLOCK)
    assert (child.unscannable, child.page_share, child.page_min_images) == (
        UnscannableAction.ALLOW,
        0.8,
        3,
    )
    assert (teen.threshold, teen.action, teen.unscannable) == (
        0.9,
        ImageAction.LOG,
        UnscannableAction.ALLOW,
    )
    assert not parent.enabled


def test_images_are_screened_by_default_and_fail_closed(tmp_path: Path) -> None:
    images = load_policy(write_policy(tmp_path, POLICY)).profile().images
    assert (images.enabled, images.threshold, images.action, images.unscannable) == (
        True,
        None,  # the model's own default threshold
        ImageAction.BLUR,
        UnscannableAction.BLOCK,
    )
    off = load_policy(write_policy(tmp_path / "off", POLICY + "\n[images]\nenabled = false\n"))
    assert not any(rules.images.enabled for rules in off.profiles.values())


# [[hashlist]]: known-image PDQ hash lists.

KNOWN = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
KNOWN_BITS = bytes.fromhex(KNOWN)
HASHLIST_POLICY = (
    'version = 1\n[categories.adult]\naction = "block"\n'
    '[[hashlist]]\npath = "hashes/known.txt"\ncategory = "csam"\n'
)


def test_a_hash_list_is_compiled_into_the_matcher(tmp_path: Path) -> None:
    lists = {"hashes/known.txt": f"# name: known\n# version: 7\n{KNOWN} case-1\n"}
    compiled = load_policy(write_policy(tmp_path, HASHLIST_POLICY, lists))
    near = PdqHash(bytes([KNOWN_BITS[0] ^ 0x0F, *KNOWN_BITS[1:]]), quality=90)
    hit = compiled.hashes.match(near)
    assert hit is not None
    assert (hit.list_name, hit.list_version, hit.category, hit.label, hit.distance) == (
        "known",
        "7",
        "csam",
        "case-1",
        4,
    )
    assert tmp_path / "hashes/known.txt" in compiled.inputs


def test_the_policy_can_name_a_hash_list(tmp_path: Path) -> None:
    text = HASHLIST_POLICY.replace('category = "csam"\n', 'category = "adult"\nname = "ours"\n')
    compiled = load_policy(write_policy(tmp_path, text, {"hashes/known.txt": f"{KNOWN}\n"}))
    hit = compiled.hashes.match(PdqHash(KNOWN_BITS, quality=90))
    assert hit is not None and (hit.list_name, hit.category) == ("ours", "adult")


def test_without_hash_lists_nothing_matches(tmp_path: Path) -> None:
    compiled = load_policy(write_policy(tmp_path, POLICY))
    assert compiled.hashes.check(PdqHash(KNOWN_BITS, quality=90)).status is MatchStatus.NO_MATCH


def test_a_missing_hash_list_refuses_the_policy(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"known\.txt"):
        load_policy(write_policy(tmp_path, HASHLIST_POLICY, {}))


def test_a_hash_list_of_an_undefined_category_refuses_the_policy(tmp_path: Path) -> None:
    text = HASHLIST_POLICY.replace('"csam"', '"gambling"')
    with pytest.raises(PolicyError, match="gambling"):
        load_policy(write_policy(tmp_path, text, {"hashes/known.txt": f"{KNOWN}\n"}))


def test_bad_hash_lines_are_reported_with_file_and_line(tmp_path: Path) -> None:
    lists = {"hashes/known.txt": f"{KNOWN}\n{KNOWN[:-1]}\n"}
    compiled = load_policy(write_policy(tmp_path, HASHLIST_POLICY, lists))
    assert [problem.split(": ")[0] for problem in compiled.problems] == [
        f"{tmp_path / 'hashes/known.txt'}:2"
    ]
    assert len(compiled.hashes) == 1
