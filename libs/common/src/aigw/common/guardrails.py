"""AI guardrails and prompt transformations per API (WSO2 4.6's set, with its parameters): the
publisher validates them, deployed revisions carry them, the gateway compiles and runs them.

An API's `guardrails` are applied in their order, each on the `flow` it names:

- checks that intervene (status 446) when the text fails them: `REGEX_GUARDRAIL`,
  `WORD_COUNT_GUARDRAIL`, `SENTENCE_COUNT_GUARDRAIL`, `CONTENT_LENGTH_GUARDRAIL`,
  `JSON_SCHEMA_GUARDRAIL`, `URL_GUARDRAIL`, `SEMANTIC_PROMPT_GUARD`;
- `PII_MASKING_REGEX`, which never blocks: it masks matches in the request and puts them back
  in the answer (or, with `redact`, replaces them for good);
- `PROMPT_DECORATOR` and `PROMPT_TEMPLATE`, request transformations WSO2 ships beside them.

`jsonPath` picks the text to check (the `aigw.common.jsonpath` subset; by default the messages'
content on requests and the choices' content on answers); `invert` flips a check's verdict;
`showAssessment` adds the check's details to the 446 answer. Regexes are compiled here with the
engine the gateway runs them with (the `regex` module, matched with a time bound there), so a
regex that is accepted always compiles where it runs.
"""

from typing import Annotated, Any, Literal, Self

import regex
from jsonschema import exceptions as jsonschema_errors
from jsonschema import validators
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from aigw.common.jsonpath import JsonPathError, compile_path
from aigw.common.schemas import RequestModel

MAX_GUARDRAILS = 16
MAX_REGEX_LENGTH = 2_000
MAX_EXAMPLES = 64  # semantic guard prompts per list
GuardrailName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")]
Flow = Literal["request", "response", "both"]


class _Frozen(RequestModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def checked_regex(pattern: str) -> str:
    """`pattern` if the gateway's engine compiles it."""
    if len(pattern) > MAX_REGEX_LENGTH:
        raise ValueError(f"a regex may be at most {MAX_REGEX_LENGTH} characters")
    try:
        regex.compile(pattern)
    except regex.error as exc:
        raise ValueError(f"not a valid regex: {exc}") from None
    return pattern


def checked_path(path: str | None) -> str | None:
    """`path` if it is in the JSONPath subset the gateway evaluates."""
    if path is not None:
        try:
            compile_path(path)
        except JsonPathError as exc:
            raise ValueError(str(exc)) from None
    return path


Regex = Annotated[str, AfterValidator(checked_regex)]
Path = Annotated[str | None, AfterValidator(checked_path)]


class _TextParams(_Frozen):
    json_path: Path = Field(
        None, description="the text to check (default: messages' content / choices' content)"
    )


class _CheckParams(_TextParams):
    invert: bool = Field(False, description="flip the verdict")
    show_assessment: bool = Field(False, description="add the check's details to the 446")


class RegexParams(_CheckParams):
    regex: Regex = Field(description="the text must contain a match (invert: must not)")


class CountParams(_CheckParams):
    min: int = Field(0, ge=0, description="fewest allowed (inclusive)")
    max: int = Field(ge=0, description="most allowed (inclusive)")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise ValueError("min must not be greater than max")
        return self


class JsonSchemaParams(_CheckParams):
    json_schema: dict[str, Any] = Field(alias="schema", description="a JSON Schema")

    @field_validator("json_schema")
    @classmethod
    def _valid_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        try:
            validators.validator_for(schema).check_schema(schema)
        except jsonschema_errors.SchemaError as exc:
            raise ValueError(f"not a valid JSON Schema: {exc.message}") from None
        return schema


class UrlParams(_TextParams):
    only_dns: bool = Field(False, alias="onlyDNS", description="a DNS lookup only, no connection")
    timeout: int = Field(3_000, ge=1, le=30_000, description="milliseconds per URL")
    show_assessment: bool = False


class PiiEntity(_Frozen):
    pii_entity: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,31}$")]
    pii_regex: Regex


class PiiMaskingParams(_TextParams):
    pii_entities: list[PiiEntity] = Field(min_length=1, max_length=32)
    redact: bool = Field(False, description="replace for good instead of restoring in answers")


class SemanticRules(_Frozen):
    allow_prompts: list[Annotated[str, StringConstraints(min_length=1, max_length=4_000)]] = Field(
        default_factory=list, max_length=MAX_EXAMPLES
    )
    deny_prompts: list[Annotated[str, StringConstraints(min_length=1, max_length=4_000)]] = Field(
        default_factory=list, max_length=MAX_EXAMPLES
    )

    @model_validator(mode="after")
    def _some(self) -> Self:
        if not self.allow_prompts and not self.deny_prompts:
            raise ValueError("give allowPrompts, denyPrompts or both")
        return self


class SemanticGuardParams(_TextParams):
    rules: SemanticRules
    threshold: float = Field(0.85, gt=0, le=1, description="cosine similarity")
    show_assessment: bool = False


class Decoration(_Frozen):
    role: Literal["system", "user", "assistant"]
    content: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class PromptDecoratorParams(_Frozen):
    decoration: list[Decoration] = Field(min_length=1, max_length=16)
    append: bool = Field(False, description="after the caller's messages (default: before)")


class PromptTemplate(_Frozen):
    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    prompt: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class PromptTemplateParams(_Frozen):
    templates: list[PromptTemplate] = Field(min_length=1, max_length=64)

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        names = [template.name for template in self.templates]
        if len(set(names)) != len(names):
            raise ValueError("templates must have distinct names")
        return self


class _Guardrail(_Frozen):
    name: GuardrailName
    flow: Flow = "both"


class RegexGuardrail(_Guardrail):
    type: Literal["REGEX_GUARDRAIL"]
    params: RegexParams


class WordCountGuardrail(_Guardrail):
    type: Literal["WORD_COUNT_GUARDRAIL"]
    params: CountParams


class SentenceCountGuardrail(_Guardrail):
    type: Literal["SENTENCE_COUNT_GUARDRAIL"]
    params: CountParams


class ContentLengthGuardrail(_Guardrail):
    type: Literal["CONTENT_LENGTH_GUARDRAIL"]
    params: CountParams


class JsonSchemaGuardrail(_Guardrail):
    type: Literal["JSON_SCHEMA_GUARDRAIL"]
    params: JsonSchemaParams


class UrlGuardrail(_Guardrail):
    type: Literal["URL_GUARDRAIL"]
    params: UrlParams


class PiiMaskingGuardrail(_Guardrail):
    type: Literal["PII_MASKING_REGEX"]
    params: PiiMaskingParams


class SemanticPromptGuard(_Guardrail):
    type: Literal["SEMANTIC_PROMPT_GUARD"]
    flow: Literal["request"] = "request"
    params: SemanticGuardParams


class PromptDecorator(_Guardrail):
    type: Literal["PROMPT_DECORATOR"]
    flow: Literal["request"] = "request"
    params: PromptDecoratorParams


class PromptTemplateGuardrail(_Guardrail):
    type: Literal["PROMPT_TEMPLATE"]
    flow: Literal["request"] = "request"
    params: PromptTemplateParams


Guardrail = Annotated[
    RegexGuardrail
    | WordCountGuardrail
    | SentenceCountGuardrail
    | ContentLengthGuardrail
    | JsonSchemaGuardrail
    | UrlGuardrail
    | PiiMaskingGuardrail
    | SemanticPromptGuard
    | PromptDecorator
    | PromptTemplateGuardrail,
    Field(discriminator="type"),
]
GUARDRAIL_TYPES = tuple(
    cls.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    for cls in (
        RegexGuardrail,
        WordCountGuardrail,
        SentenceCountGuardrail,
        ContentLengthGuardrail,
        JsonSchemaGuardrail,
        UrlGuardrail,
        PiiMaskingGuardrail,
        SemanticPromptGuard,
        PromptDecorator,
        PromptTemplateGuardrail,
    )
)


def distinct_names(guardrails: list[Any]) -> list[Any]:
    """An API's guardrails, refused when two share a name (the 446 names the one that
    intervened)."""
    names = [guardrail.name for guardrail in guardrails]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"guardrail names must be distinct: {', '.join(duplicates)}")
    return guardrails


Guardrails = Annotated[
    list[Guardrail], Field(max_length=MAX_GUARDRAILS), AfterValidator(distinct_names)
]
