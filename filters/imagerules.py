"""The verdict on one image, from what checking it found and the profile's image settings.

Pure and tiny on purpose: the proxy, `abhaya classify-image` and the tests all decide through
`image_verdict`, so a parent reading an image event sees the rule the proxy applied.  The order
is fixed:

1. a known-image hash match blocks, whatever the profile says (a csam match is zero tolerance);
2. an image that could not be checked gets the policy's `unscannable` action (block by
   default: a filter fails closed);
3. a classifier score at or over the profile's threshold gets the profile's action (blur,
   block, or log: delivered and recorded);
4. anything else is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

from abhaya.filters.pdqmatch import HashHit
from abhaya.filters.policy.compile import ImageScreening
from abhaya.filters.policy.model import ImageAction, UnscannableAction
from abhaya.filters.verdict import Action, Category, Reason, Verdict

_ACTIONS = {
    ImageAction.BLUR: Action.BLUR,
    ImageAction.BLOCK: Action.BLOCK,
    ImageAction.LOG: Action.ALLOW,
}


@dataclass(frozen=True, slots=True)
class ImageFindings:
    """What checking one image found, in the words `image_verdict` needs."""

    score: float | None = None
    """The classifier's score; None when it was not asked (screening off, or a tiny image)."""
    model: str = ""
    """The classifier's version, for the parent and the evidence."""
    match: HashHit | None = None
    """A match on a known-image hash list (`HashMatcher.match`)."""
    unscannable: str = ""
    """Why the image could not be checked ("truncated", "too many pixels", "took too long");
    empty when it was checked."""


def image_verdict(
    findings: ImageFindings, rules: ImageScreening, default_threshold: float
) -> Verdict:
    """What the proxy does with the image (see the module docstring for the order)."""
    if findings.match is not None:
        match = findings.match
        return Verdict(
            Action.BLOCK,
            Reason.HASH_MATCH,
            category=match.category,
            detail=f"the image matches an entry of the list {match.list_name!r} "
            f"(PDQ distance {match.distance})",
            rule=match.list_name,
            source="hashlist",
        )
    if findings.unscannable:
        action = Action.BLOCK if rules.unscannable is UnscannableAction.BLOCK else Action.ALLOW
        return Verdict(
            action,
            Reason.UNSCANNABLE,
            detail=f"the image could not be checked: {findings.unscannable}",
            rule="images.unscannable",
            source="policy",
        )
    threshold = rules.threshold_or(default_threshold)
    if rules.enabled and findings.score is not None and findings.score >= threshold:
        return Verdict(
            _ACTIONS[rules.action],
            Reason.MODEL,
            category=Category.ADULT,
            detail=f"explicit-image score {findings.score:.2f} at threshold {threshold:.2f}",
            rule=findings.model,
            source="images",
        )
    return Verdict(Action.ALLOW, Reason.NO_MATCH, detail="the image was checked")
