"""Lifecycle actions as data: which states an action starts from, where it leads and what it
means (the OpenAPI document's enum and its description are built from this table)."""

from dataclasses import dataclass
from typing import Literal

CREATED = "CREATED"
PUBLISHED = "PUBLISHED"


@dataclass(frozen=True, slots=True)
class Transition:
    sources: frozenset[str]
    target: str
    effect: str
    # Publishing offers the API in the catalogue: one not deployed would answer every
    # subscriber's call "No API is deployed".
    needs_deployment: bool = False


# Publishing a published API is allowed: it re-announces the catalogue entry (idempotent for
# the devportal), which lets scripts that replay the getting-started steps run twice.
TRANSITIONS: dict[str, Transition] = {
    "publish": Transition(
        frozenset({CREATED, PUBLISHED}),
        PUBLISHED,
        "lists the API in the developer portal's catalogue, where subscribers find it and "
        "subscribe (`aigw.api.published`); publishing a published API announces it again; "
        "the API must be deployed",
        needs_deployment=True,
    ),
    "demote": Transition(
        frozenset({PUBLISHED}),
        CREATED,
        "takes the API out of the catalogue, so no new subscription can be made "
        "(`aigw.api.updated`); existing subscriptions and the deployed revision keep working "
        "(undeploy stops the traffic)",
    ),
}

# The actions as a type, for the request body's enum; a test checks it matches TRANSITIONS.
LifecycleAction = Literal["publish", "demote"]


def describe_actions() -> str:
    """One line per action: the states it starts from, the state it leads to, its effect."""
    lines = ["The lifecycle action:"]
    for name, transition in TRANSITIONS.items():
        sources = " or ".join(sorted(transition.sources))
        lines.append(f"- `{name}`: {sources} → {transition.target}; {transition.effect}")
    return "\n".join(lines)
