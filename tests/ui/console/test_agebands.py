"""Every age band gives a profile the agent accepts, on the built-in policy and on a school's."""

from __future__ import annotations

import pytest

from abhaya.filters.policy.load import default_policy_path, parse_policy
from abhaya.filters.verdict import Category
from abhaya.ui.console.agebands import age_bands, band
from abhaya.ui.console.childsetup import ChildInput, policy_facts, write_children
from tests.conftest import POLICY

BUILT_IN = default_policy_path().read_text(encoding="utf-8")


def test_the_bands_run_youngest_first_and_say_why() -> None:
    assert [b.id for b in age_bands()] == ["under_9", "9_12", "13_15", "16_17"]
    for each in age_bands():
        assert len(each.why) > 80, each.id
        assert set(each.categories) <= {str(c) for c in Category} - {"csam"}


def test_older_bands_never_block_more_than_younger_ones() -> None:
    """A band's defaults loosen with age, never the other way round."""
    order = {"block": 2, "warn": 1, "allow": 0}
    bands = age_bands()
    for younger, older in zip(bands, bands[1:], strict=False):
        for category, action in older.categories.items():
            assert order[action] <= order[younger.categories[category]], (older.id, category)


@pytest.mark.parametrize("text", [BUILT_IN, POLICY], ids=["built-in", "test"])
@pytest.mark.parametrize("band_id", [b.id for b in age_bands()])
def test_each_band_makes_a_profile_the_agent_accepts(text: str, band_id: str) -> None:
    child = ChildInput("Asha", band_id, "hi", "asha")
    written = write_children(text, [child], policy_facts(text))
    profile = parse_policy(written, "walkthrough").profiles["asha"]
    defined = set(policy_facts(text).categories)
    assert {str(c) for c in profile.categories} == set(band(band_id).categories) & defined
    assert profile.users == ("asha",) and profile.language == "hi"
    assert len(profile.schedule) == len(band(band_id).schedule)
