"""The vendor definition models, validated so that whatever they accept the gateway can use."""

import re
from typing import Annotated, Any, Literal, Self, get_args

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from aigw.common.jsonpath import JsonPathError, compile_path
from aigw.common.schemas import CamelModel

# An HTTP header name (RFC 9110 token).
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
_QUERY_NAME = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")
# Headers the gateway or the HTTP layer owns: a vendor may neither carry its key in them nor
# set them by default.
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "proxy-authorization",
        "proxy-authenticate",
        "proxy-connection",
        "apikey",  # the gateway's own key header
    }
)

# Headers no caller may send to a provider, whatever a vendor says: the caller's own
# credentials, its cookies and identity (the provider sees the gateway, not the client), and
# the encoding (the gateway asks for an uncompressed answer: it meters what it reads).
NEVER_FROM_CALLER = frozenset(
    {
        "authorization",
        "cookie",
        "forwarded",
        "x-real-ip",
        "x-client-ip",
        "true-client-ip",
        "accept-encoding",
    }
)
NEVER_FROM_CALLER_PREFIXES = ("x-forwarded-",)

Source = Literal["payload", "header", "queryParameter"]
HttpMethod = Literal["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"]
_OPENAPI_METHODS = frozenset(method.lower() for method in get_args(HttpMethod))
# A path of an API definition: absolute, printable, no query or fragment; a parameter is a
# whole segment (`/deployments/{deployment-id}/...`), so it matches exactly one segment.
_PATH = re.compile(r"^/[\x21-\x7e]{0,511}$")
_PARAMETER = re.compile(r"^\{[^{}/]+\}$")
MAX_OPERATION_PATHS = 500


def _header_name(name: str) -> str:
    if not _TOKEN.match(name):
        raise ValueError(f"'{name}' is not a valid HTTP header name")
    if name.lower() in RESERVED_HEADERS:
        raise ValueError(f"the header '{name}' is reserved and cannot be used here")
    return name


def _json_path(text: str) -> str:
    try:
        compile_path(text)
    except JsonPathError as exc:
        raise ValueError(str(exc)) from None
    return text


def _path_template(path: str) -> str:
    if not _PATH.match(path) or "?" in path or "#" in path:
        raise ValueError(
            f"the path '{path}' must start with '/' and hold no spaces, query or fragment"
        )
    for segment in path.split("/")[1:]:
        if ("{" in segment or "}" in segment) and not _PARAMETER.match(segment):
            raise ValueError(
                f"the path '{path}': a parameter must be a whole segment, e.g. '/items/{{id}}'"
            )
    return path


def _caller_header(name: str) -> str:
    lowered = name.lower()
    if lowered in NEVER_FROM_CALLER or lowered.startswith(NEVER_FROM_CALLER_PREFIXES):
        raise ValueError(f"the header '{name}' is never forwarded from a caller")
    return name


HeaderName = Annotated[str, AfterValidator(_header_name)]
CallerHeaderName = Annotated[HeaderName, AfterValidator(_caller_header)]
PathTemplate = Annotated[str, AfterValidator(_path_template)]
JsonPathText = Annotated[str, AfterValidator(_json_path)]


class _Frozen(CamelModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Attribute(_Frozen):
    """Where one metered value is: a JSONPath into the body (`payload`), a header name or a
    query-parameter name."""

    input_source: Source
    attribute_identifier: str = Field(min_length=1, max_length=256)

    @model_validator(mode="after")
    def _identifier_fits_source(self) -> Self:
        identifier = self.attribute_identifier
        if self.input_source == "payload":
            _json_path(identifier)
        elif self.input_source == "header":
            if not _TOKEN.match(identifier):
                raise ValueError(f"'{identifier}' is not a valid HTTP header name")
        elif not _QUERY_NAME.match(identifier):
            raise ValueError(f"'{identifier}' is not a valid query-parameter name")
        return self


def _from_response(attribute: Attribute | None, field: str) -> None:
    if attribute is not None and attribute.input_source == "queryParameter":
        raise ValueError(f"{field}: a response has no query parameters; use 'payload' or 'header'")


class Metadata(_Frozen):
    """Where the gateway finds what it meters. `requestModel` is read from the request, the
    rest from the response. Unset token counts count as 0; an unset total is prompt +
    completion."""

    request_model: Attribute | None = None
    response_model: Attribute | None = None
    prompt_token_count: Attribute | None = None
    completion_token_count: Attribute | None = None
    total_token_count: Attribute | None = None
    remaining_token_count: Attribute | None = None

    @model_validator(mode="after")
    def _response_sources(self) -> Self:
        for field in (
            "response_model",
            "prompt_token_count",
            "completion_token_count",
            "total_token_count",
            "remaining_token_count",
        ):
            _from_response(getattr(self, field), field)
        return self


class StreamMetadata(_Frozen):
    """How a server-sent-event answer is metered: JSONPaths applied to each event's `data`
    (the last value found wins, so cumulative counts work). An unset path falls back to the
    body path of `metadata`. `content` selects the generated text (first-token time, and an
    estimate when a stream ends without counts). `usageOption: include_usage` makes the gateway
    ask an OpenAI-style provider for a usage chunk (and keep that extra chunk from callers
    who did not ask for it)."""

    response_model: JsonPathText | None = None
    prompt_token_count: JsonPathText | None = None
    completion_token_count: JsonPathText | None = None
    total_token_count: JsonPathText | None = None
    content: JsonPathText | None = None
    usage_option: Literal["include_usage", "none"] = "none"


class VendorAuth(_Frozen):
    """How the provider key travels: `header` (`name`, value = `valuePrefix` + key),
    `queryParameter` (`name`) or `unsecured` (no key)."""

    type: Literal["header", "queryParameter", "unsecured"]
    name: str = Field("", max_length=64)
    value_prefix: str = Field("", max_length=32, pattern=r"^[\x20-\x7e]*$")

    @model_validator(mode="after")
    def _name_fits_type(self) -> Self:
        if self.type == "header":
            _header_name(self.name)
        elif self.type == "queryParameter":
            if not _QUERY_NAME.match(self.name):
                raise ValueError(f"'{self.name}' is not a valid query-parameter name")
            if self.value_prefix:
                raise ValueError("valuePrefix applies to header authentication only")
        elif self.name or self.value_prefix:
            raise ValueError("an unsecured vendor takes no name or valuePrefix")
        return self


VendorName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
VendorVersion = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$")]
HeaderValue = Annotated[str, StringConstraints(max_length=1024, pattern=r"^[\x20-\x7e]*$")]


class _VendorFields(_Frozen):
    """What a vendor definition and the spec the gateway receives have in common.

    `callerHeaders` are the provider headers a caller may set (e.g. `anthropic-beta`); the
    gateway forwards a small set of generic headers (content type, accept, user agent, SDK
    headers, idempotency key, request id) and these, and drops every other header the caller
    sent, so a caller cannot pick the organisation's provider account, project or region
    (`OpenAI-Organization`, `OpenAI-Project`) unless the vendor allows it.

    `requestIdHeader` is the header the gateway sends each call's request id to the provider
    in (the caller's valid `x-request-id`, else the gateway's own); null sends none."""

    name: VendorName
    version: VendorVersion
    auth: VendorAuth
    default_headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict, max_length=20)
    caller_headers: list[CallerHeaderName] = Field(default_factory=list, max_length=50)
    metadata: Metadata = Field(default_factory=Metadata)
    stream: StreamMetadata = Field(default_factory=StreamMetadata)
    request_id_header: CallerHeaderName | None = "x-request-id"

    @model_validator(mode="after")
    def _headers_leave_the_key_alone(self) -> Self:
        names = [name.lower() for name in self.default_headers]
        if len(set(names)) != len(names):
            raise ValueError("defaultHeaders names a header twice (names are case-insensitive)")
        if self.auth.type == "header" and self.auth.name.lower() in names:
            raise ValueError("defaultHeaders must not set the header that carries the key")
        if self.auth.type == "header" and self.auth.name.lower() in {
            name.lower() for name in self.caller_headers
        }:
            raise ValueError("callerHeaders must not name the header that carries the key")
        return self._request_id_header_is_its_own()

    def _request_id_header_is_its_own(self) -> Self:
        name = self.request_id_header
        if name is None:
            return self
        lowered = name.lower()
        if self.auth.type == "header" and self.auth.name.lower() == lowered:
            raise ValueError("requestIdHeader must not be the header that carries the key")
        others = {
            *(n.lower() for n in self.default_headers),
            *(n.lower() for n in self.caller_headers),
        }
        if lowered in others:
            raise ValueError("requestIdHeader must not be in defaultHeaders or callerHeaders")
        return self


class VendorSpec(_VendorFields):
    """What the gateway needs of a vendor; travels inside every deployed revision.

    `operations` are the paths (relative to an endpoint's URL, parameters as `{name}`) and
    methods the gateway forwards, from the vendor's API definition; anything else is answered
    404 or 405 by the gateway. None: a revision deployed before operations travelled (the
    gateway then takes a built-in vendor's, and forwards nothing for a custom one)."""

    operations: dict[PathTemplate, list[HttpMethod]] | None = Field(
        None, max_length=MAX_OPERATION_PATHS
    )


def _check_api_definition(document: dict[str, Any] | None) -> dict[str, Any] | None:
    # ValueError, not TypeError: pydantic reports only ValueErrors as validation errors.
    if document is None:
        return None
    version = document.get("openapi") or document.get("swagger")
    if not isinstance(version, str):
        raise ValueError("apiDefinition must be an OpenAPI document (an 'openapi' version)")  # noqa: TRY004
    paths = document.get("paths")
    if not isinstance(paths, dict):
        raise ValueError("apiDefinition must have 'paths'")  # noqa: TRY004
    if len(paths) > MAX_OPERATION_PATHS:
        raise ValueError(f"apiDefinition has more than {MAX_OPERATION_PATHS} paths")
    for path, item in paths.items():
        _path_template(path)
        if not isinstance(item, dict):
            raise ValueError(f"apiDefinition: the path item of '{path}' must be an object")  # noqa: TRY004
    return document


def operations_of(document: dict[str, Any] | None) -> dict[str, list[HttpMethod]]:
    """The operations of an OpenAPI document: each path and its methods (upper case). Path
    items that declare no method (e.g. a bare `$ref`) add nothing."""
    if document is None:
        return {}
    operations: dict[str, list[HttpMethod]] = {}
    for path, item in document["paths"].items():
        methods = sorted(key.upper() for key in item if key.lower() in _OPENAPI_METHODS)
        if methods:
            operations[path] = methods
    return operations


class VendorDefinition(_VendorFields):
    """A vendor as publishers see it: the spec's fields plus its description and API
    definition (an OpenAPI document), whose operations are the spec's `operations`."""

    description: str = Field("", max_length=2000)
    api_definition: Annotated[dict[str, Any] | None, AfterValidator(_check_api_definition)] = None

    def operations(self) -> dict[str, list[HttpMethod]]:
        return operations_of(self.api_definition)

    def spec(self) -> VendorSpec:
        fields = self.model_dump(include=set(_VendorFields.model_fields), by_alias=False)
        return VendorSpec.model_validate({**fields, "operations": self.operations()})
