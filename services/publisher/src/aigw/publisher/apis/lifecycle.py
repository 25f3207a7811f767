"""Lifecycle actions as data: which states an action starts from and where it leads."""

from dataclasses import dataclass

CREATED = "CREATED"
PUBLISHED = "PUBLISHED"


@dataclass(frozen=True, slots=True)
class Transition:
    sources: frozenset[str]
    target: str


# Publishing a published API is allowed: it re-announces the catalogue entry (idempotent for
# the devportal), which lets scripts that replay the getting-started steps run twice.
TRANSITIONS: dict[str, Transition] = {
    "publish": Transition(frozenset({CREATED, PUBLISHED}), PUBLISHED),
    "demote": Transition(frozenset({PUBLISHED}), CREATED),
}
