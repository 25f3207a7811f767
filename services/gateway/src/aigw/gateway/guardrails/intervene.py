"""A guardrail's intervention: the call is marked (usage record, metrics) and answered with
WSO2's status 446 in the gateway's OpenAI-style envelope, WSO2's details beside it."""

from typing import Literal

from aigw.gateway.errors import Refused
from aigw.gateway.guardrails.checks import Verdict
from aigw.gateway.invocation import Intervention, Invocation

GUARDRAIL_STATUS = 446
GUARDRAIL_CODE = "900514"
Direction = Literal["REQUEST", "RESPONSE"]


def intervention(
    call: Invocation, name: str, direction: Direction, verdict: Verdict, show: bool
) -> Refused:
    call.intervention = Intervention(name, direction)
    details: dict[str, object] = {
        "interveningGuardrail": name,
        "action": "GUARDRAIL_INTERVENED",
        "actionReason": verdict.reason,
        "direction": direction,
    }
    if show and verdict.assessment is not None:
        details["assessments"] = verdict.assessment
    return Refused(
        GUARDRAIL_STATUS,
        verdict.reason,
        GUARDRAIL_CODE,
        error_type="guardrail_intervened",
        details={"guardrail": details},
    )


def unavailable(name: str, kind: str) -> Refused:
    """A configured guardrail this gateway cannot run: the call is refused (fail closed)."""
    message = f"The guardrail '{name}' ({kind}) is not available on this gateway."
    return Refused(503, message, "guardrail_unavailable")
