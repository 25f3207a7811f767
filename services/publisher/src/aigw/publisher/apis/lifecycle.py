"""Lifecycle actions as data: which states an action starts from and where it leads."""

from dataclasses import dataclass

CREATED = "CREATED"
PUBLISHED = "PUBLISHED"


@dataclass(frozen=True, slots=True)
class Transition:
    sources: frozenset[str]
    target: str
    # Publishing offers the API in the catalogue: one not deployed would answer every
    # subscriber's call "No API is deployed".
    needs_deployment: bool = False


# Publishing a published API is allowed: it re-announces the catalogue entry (idempotent for
# the devportal), which lets scripts that replay the getting-started steps run twice.
TRANSITIONS: dict[str, Transition] = {
    "publish": Transition(frozenset({CREATED, PUBLISHED}), PUBLISHED, needs_deployment=True),
    "demote": Transition(frozenset({PUBLISHED}), CREATED),
}
