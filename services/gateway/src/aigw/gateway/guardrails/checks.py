"""The guardrails' verdicts on a text (WSO2's semantics): each check says why it intervenes,
or None when the text passes. `invert` flips a verdict; what a check found is its
assessment (shown only with `showAssessment`)."""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import regex
from jsonschema import ValidationError, validators
from referencing.exceptions import Unresolvable

from aigw.common.guardrails import CountParams, JsonSchemaParams, RegexParams

_SENTENCE_END = re.compile(r"[.!?]+(?:\s+|$)")
_FENCE = re.compile(r"^```[A-Za-z]*\s*\n(.*)\n```\s*$", re.DOTALL)
MAX_SCHEMA_ERRORS = 5


@dataclass(frozen=True, slots=True)
class Verdict:
    """A guardrail intervenes: WSO2's `actionReason` and what the check found."""

    reason: str
    assessment: Any = None


class Check(Protocol):
    async def judge(self, text: str) -> Verdict | None: ...


def timed_out(timeout_ms: int) -> Verdict:
    """A regex that ran past its time bound: the guardrail fails closed."""
    reason = f"The guardrail's regex did not finish within {timeout_ms} ms on this text."
    return Verdict(reason, "regex time bound exceeded")


class RegexCheck:
    """The text must contain a match (invert: must not)."""

    def __init__(self, params: RegexParams, timeout_ms: int) -> None:
        self.pattern = regex.compile(params.regex)
        self.invert = params.invert
        self.timeout_ms = timeout_ms
        self.timeout = timeout_ms / 1000

    def found(self, text: str) -> bool | None:
        """Whether `text` has a match; None when the search ran out of time."""
        try:
            return self.pattern.search(text, timeout=self.timeout) is not None
        except TimeoutError:
            return None

    async def judge(self, text: str) -> Verdict | None:
        found = self.found(text)
        if found is None:
            return timed_out(self.timeout_ms)
        return self.verdict(found)

    def verdict(self, found: bool) -> Verdict | None:
        if found != self.invert:
            return None
        said = "matches" if self.invert else "does not match"
        return Verdict(
            "Violation of regular expression detected.",
            f"The text {said} the regular expression {self.pattern.pattern!r}.",
        )


class CountCheck:
    """Words, sentences or bytes (UTF-8, as WSO2's content length) within [min, max]
    (invert: outside)."""

    UNITS: ClassVar[dict[str, str]] = {
        "words": "word count",
        "sentences": "sentence count",
        "bytes": "content length",
    }

    def __init__(self, params: CountParams, unit: str) -> None:
        self.min, self.max, self.invert, self.unit = params.min, params.max, params.invert, unit

    def count(self, text: str) -> int:
        if self.unit == "words":
            return len(text.split())
        if self.unit == "sentences":
            return len([s for s in _SENTENCE_END.split(text) if s.strip()])
        return len(text.encode())

    async def judge(self, text: str) -> Verdict | None:
        count = self.count(text)
        inside = self.min <= count <= self.max
        if inside != self.invert:
            return None
        where = "inside" if self.invert else "outside"
        return Verdict(
            f"Violation of applied {self.UNITS[self.unit]} constraints detected.",
            f"The text has {count} {self.unit}, {where} [{self.min}, {self.max}].",
        )


def _timed_validator(schema: dict[str, Any], timeout: float) -> Any:
    base = validators.validator_for(schema)

    def search(pattern: str, text: str) -> bool | None:  # None: it ran out of time
        try:
            return regex.search(pattern, text, timeout=timeout) is not None
        except TimeoutError:
            return None

    def too_slow(pattern: str) -> ValidationError:
        return ValidationError(f"{pattern!r} did not finish within the time bound")

    def pattern(validator: Any, patrn: str, instance: Any, _: Any) -> Iterator[ValidationError]:
        if validator.is_type(instance, "string"):
            found = search(patrn, instance)
            if found is None:
                yield too_slow(patrn)
            elif not found:
                yield ValidationError(f"{instance!r} does not match {patrn!r}")

    def pattern_properties(
        validator: Any, properties: dict[str, Any], instance: Any, _: Any
    ) -> Iterator[ValidationError]:
        if not validator.is_type(instance, "object"):
            return
        for patrn, subschema in properties.items():
            for name, value in instance.items():
                found = search(patrn, name)
                if found is None:
                    yield too_slow(patrn)
                elif found:
                    yield from validator.descend(value, subschema, path=name, schema_path=patrn)

    timed = {"pattern": pattern, "patternProperties": pattern_properties}
    return validators.extend(base, timed)  # type: ignore[no-untyped-call]


class JsonSchemaCheck:
    """The text, parsed as JSON (a Markdown code fence around it is allowed), must validate
    (invert: must not)."""

    def __init__(self, params: JsonSchemaParams, timeout_ms: int = 100) -> None:
        schema = params.json_schema
        # compiled once per revision; `pattern` and `patternProperties` with the time-bound
        # `regex` engine (jsonschema's own use `re`, which a caller's text can stall)
        self.validator = _timed_validator(schema, timeout_ms / 1000)(schema)
        self.invert = params.invert

    def problems(self, text: str) -> list[str]:
        fenced = _FENCE.match(text.strip())
        try:
            value = json.loads(fenced.group(1) if fenced else text)
        except (ValueError, RecursionError):
            return ["The text is not JSON."]
        try:
            errors = self.validator.iter_errors(value)
            return [
                error.message for _, error in zip(range(MAX_SCHEMA_ERRORS), errors, strict=False)
            ]
        except Unresolvable as exc:  # a `$ref` that resolves nowhere: nothing validates
            return [f"The schema cannot be evaluated: {exc}."]

    async def judge(self, text: str) -> Verdict | None:
        problems = self.problems(text)
        if bool(problems) == self.invert:
            return None
        assessment = problems or ["The text validates against the schema."]
        return Verdict("Violation of JSON schema detected.", assessment)
