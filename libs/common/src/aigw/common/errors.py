"""The management APIs' error contract: `{"code", "message", "description"}` for every failure,
plus `"fields"` (field path -> message) when the error is about named fields of the request."""

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """A business error that carries its own HTTP status."""

    status_code = 400
    message = "Bad request"
    headers: dict[str, str] | None = None  # sent with the error (e.g. Retry-After)

    def __init__(
        self,
        description: str,
        *,
        message: str | None = None,
        fields: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        # the request fields the error is about, so a form can show each message by its field
        self.fields = fields
        if message is not None:
            self.message = message


class NotFound(ServiceError):
    status_code = 404
    message = "Not found"


class Conflict(ServiceError):
    status_code = 409
    message = "Conflict"


class Unauthorized(ServiceError):
    status_code = 401
    message = "Unauthorized"


class Forbidden(ServiceError):
    status_code = 403
    message = "Forbidden"


class InvalidInput(ServiceError):
    status_code = 422
    message = "Invalid input"


class UnsupportedMediaType(ServiceError):
    status_code = 415
    message = "Unsupported media type"


class TooManyRequests(ServiceError):
    """429 with `Retry-After: retry_after` (whole seconds)."""

    status_code = 429
    message = "Too many requests"

    def __init__(self, description: str, *, retry_after: int, message: str | None = None) -> None:
        super().__init__(description, message=message)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class Unavailable(ServiceError):
    status_code = 503
    message = "Service unavailable"


class NotKnownYet(Unavailable):
    """503 with `Retry-After`: a read model that cannot tell yet (it may be behind the event
    stream, or cut off from it) rather than a wrong 404."""

    def __init__(self, description: str, *, retry_after: int = 2) -> None:
        super().__init__(description)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class StoreUnavailable(Unavailable):
    """503 with `Retry-After`: the service's store (MongoDB) is unreachable or did not answer
    in time (`MONGODB_TIMEOUT_MS`). Every pymongo error that says so becomes this one, in
    `add_exception_handlers`; the client reconnects by itself when the store is back."""

    def __init__(self, *, retry_after: int = 2) -> None:
        super().__init__(
            "The service's store (MongoDB) is unreachable: a write answered so happened whole or "
            "not at all. Try again after Retry-After (a deploy with the same "
            "Idempotency-Key is never made twice)"
        )
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class UpstreamFailure(ServiceError):
    status_code = 502
    message = "Dependent service failed"


class ErrorBody(BaseModel):
    """The documented shape of every management error response."""

    code: int
    message: str
    description: str
    fields: dict[str, str] | None = Field(
        None,
        description=(
            "the request fields the error is about, by path as the request names them "
            '(e.g. `"context"`, `"endpoints.production"`, `"routing.production.targets.0.weight"`, '
            '`"guardrails.0.params.regex"`), '
            "each with its message; only present when the error names fields"
        ),
    )


def _documented(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


# What any management route may answer besides its own outcomes; every router is included
# with it (aigw.common.service_app), and a route's own `responses=` entry takes precedence.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented("Malformed request (e.g. a body that is not JSON)"),
    401: _documented("Missing, invalid or expired access token"),
    403: _documented("The caller's role may not do this"),
    404: _documented("No such resource visible to the caller"),
    409: _documented("Conflicts with the resource's current state"),
    413: _documented("Request body over the configured size limit"),
    422: _documented("The request does not validate"),
    503: _documented(
        "The service's store (MongoDB) is unreachable; try again after Retry-After (seconds)"
    ),
}

# A route whose answer rests on a read model of the event stream: documented with
# `responses=NOT_KNOWN_YET` (raised as `NotKnownYet`)
NOT_KNOWN_YET: dict[int | str, dict[str, Any]] = {
    503: _documented(
        "Not known yet: the read model this answer rests on may be behind the event stream "
        "(NATS unreachable, or events still to fold); try again after Retry-After"
    )
}


def error_body(
    code: int, message: str, description: str, fields: dict[str, str] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "description": description}
    if fields:
        body["fields"] = fields
    return body


def error_response(
    code: int, message: str, description: str, fields: dict[str, str] | None = None
) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
    return JSONResponse(
        error_body(code, message, description, fields), status_code=code, headers=headers
    )


# pydantic says "Extra inputs are not permitted"; the client most likely misspelt a field
_UNKNOWN_FIELD = "unknown field (not part of this request; check its spelling)"


def describe_validation_errors(errors: Sequence[Any], body: Any = None) -> str:
    """pydantic's errors as the 422 description names them: `field.path: what is wrong; ...`
    (also for bodies validated after the request was parsed, e.g. a merged PATCH). `body`, the
    input as validated, lets the paths leave out the tags of discriminated unions."""
    return "; ".join(f"{path}: {message}" for path, message in _located(errors, body))


def validation_fields(errors: Sequence[Any], body: Any = None) -> dict[str, str]:
    """pydantic's errors by field path (`endpoints.production`; `body` for the body as a
    whole), several messages for one path joined with "; "."""
    fields: dict[str, str] = {}
    for path, message in _located(errors, body):
        fields[path] = f"{fields[path]}; {message}" if path in fields else message
    return fields


def _located(errors: Sequence[Any], body: Any) -> list[tuple[str, str]]:
    located = []
    for err in errors:
        loc = ".".join(str(part) for part in field_path(err, body))
        message = _UNKNOWN_FIELD if err.get("type") == "extra_forbidden" else err.get("msg")
        located.append((loc or "body", str(message)))
    return located


_UNION_TAG_ERRORS = {"union_tag_invalid", "union_tag_not_found"}


def field_path(err: Any, body: Any) -> list[str | int]:
    """Where the request put the field an error is about: the body's own fields without the
    `body` prefix, and without the tag pydantic adds after a discriminated union's position
    (`guardrails.0.REGEX_GUARDRAIL.params.regex` is `guardrails.0.params.regex`: the tag is
    the value of the member's discriminator in `body`, not a field). A tag that is missing or
    unknown is about the discriminator field itself (`guardrails.0.type`)."""
    loc = [part for part in err.get("loc", ()) if part != "body"]
    path: list[str | int] = []
    node = body
    for index, part in enumerate(loc):
        if _is_union_tag(node, part, last=index == len(loc) - 1):
            continue
        path.append(part)
        node = _child(node, part)
    if err.get("type") in _UNION_TAG_ERRORS:
        discriminator = str((err.get("ctx") or {}).get("discriminator", "")).strip("'")
        if discriminator.isidentifier():
            path.append(discriminator)
    return path


def _is_union_tag(node: Any, part: Any, *, last: bool) -> bool:
    # a member's tag is never the last part: the error is about one of the member's fields
    if last or not isinstance(node, dict) or not isinstance(part, str) or part in node:
        return False
    return any(isinstance(value, str) and value == part for value in node.values())


def _child(node: Any, part: Any) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node):
        return node[part]
    return None


def _describe_validation(exc: RequestValidationError) -> tuple[int, str, dict[str, str] | None]:
    errors = exc.errors()
    if any(err.get("type") == "json_invalid" for err in errors):
        return 400, "Request body is not valid JSON", None
    return 422, describe_validation_errors(errors, exc.body), validation_fields(errors, exc.body)


def service_error_response(exc: ServiceError) -> JSONResponse:
    response = error_response(exc.status_code, exc.message, exc.description, exc.fields)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def unexpected_error_response(exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "Internal server error", "An unexpected error occurred")


def add_exception_handlers(app: FastAPI) -> None:
    """The error shapes of every service; the store's errors are the services' with a store
    (aigw.common.mongo.add_store_error_handler), so the gateway never imports its driver."""

    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return service_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        code, description, fields = _describe_validation(exc)
        message = "Malformed request body" if code == 400 else "Invalid input"
        return error_response(code, message, description, fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = {404: "Not found", 405: "Method not allowed", 413: "Payload too large"}.get(
            exc.status_code, "Request failed"
        )
        return error_response(exc.status_code, message, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        return unexpected_error_response(exc)
