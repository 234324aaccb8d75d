"""Entries that are public suffixes are split off, found quickly and checked against the PSL."""

from __future__ import annotations

import publicsuffixlist

from abhaya.filters.lists.narrow import (
    EXAMPLES,
    Narrowed,
    split_public_suffixes,
    split_url_rules,
)
from abhaya.filters.suffixes import is_public_suffix


def test_platforms_and_tlds_are_split_off_in_list_order() -> None:
    domains = (
        "adult-1.example",
        "github.io",
        "www.adult-2.example",
        "blogspot.com",
        "someblog.blogspot.com",  # a blog on the platform is a site of its own: kept
        "co.uk",
        "zzz-unknown-tld",  # a single label: an unknown TLD is public too
        "x.ck",  # `*.ck` makes every name directly under ck public
        "www.ck",  # ... except `!www.ck`
        "1.2.3.4",
    )
    covering, exact = split_public_suffixes(domains)
    assert exact == ("github.io", "blogspot.com", "co.uk", "zzz-unknown-tld", "x.ck")
    assert tuple(covering) == (
        "adult-1.example",
        "www.adult-2.example",
        "someblog.blogspot.com",
        "www.ck",
        "1.2.3.4",
    )


def test_a_list_without_public_suffixes_is_returned_as_it_is() -> None:
    domains = tuple(f"site-{n}.example" for n in range(1000))
    covering, exact = split_public_suffixes(domains)
    assert covering is domains
    assert exact == ()


def psl_population() -> list[str]:
    """Every name the PSL has a rule for, a child of each (wildcard or not), and a grandchild,
    in punycode: the names where a quick candidate search could miss or misjudge one."""
    names: list[str] = []
    with open(publicsuffixlist.PSLFILE, encoding="utf-8") as file:
        for raw in file:
            rule = raw.strip().split(" ")[0].lower().lstrip("!")
            if not rule or rule.startswith("//"):
                continue
            base = publicsuffixlist.encode_idn(rule.removeprefix("*."))
            names += [base, f"child.{base}", f"a.child.{base}"]
    return names


def test_the_quick_search_agrees_with_the_psl_on_every_rule() -> None:
    names = psl_population()
    _, exact = split_public_suffixes(names)
    expected = [name for name in names if is_public_suffix(name)]
    assert len(expected) > 10_000  # the population does exercise the list
    assert sorted(exact) == sorted(expected)


def test_notice_counts_all_and_names_a_few() -> None:
    exact = [f"p{n}.github.io" for n in range(EXAMPLES + 3)]
    notice = Narrowed.of("lists/adult.txt", exact)
    assert notice is not None
    assert notice.count == EXAMPLES + 3
    assert notice.examples == tuple(exact[:EXAMPLES])
    text = str(notice)
    assert text.startswith("lists/adult.txt: 8 entries name a public suffix")
    assert "exact host only" in text
    assert text.endswith("p4.github.io and 3 more")
    assert Narrowed.of("lists/adult.txt", []) is None


def test_url_rules_on_a_platform_are_split_off() -> None:
    rules = ("adult.example/a", "blogspot.com/some/path", "blog.blogspot.com/x", "github.io/")
    covering, exact = split_url_rules(rules)
    assert tuple(covering) == ("adult.example/a", "blog.blogspot.com/x")
    assert exact == ("blogspot.com/some/path", "github.io/")
    assert split_url_rules(rules[:1]) == (rules[:1], ())
