import base64
import hashlib
import hmac
import time
from types import SimpleNamespace
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import BaseModel, SecretStr

from aigw.common.crypto import decode_master_key, generate_master_key
from aigw.common.errors import Forbidden, ServiceError, Unauthorized, add_exception_handlers
from aigw.common.service_auth import (
    SERVICE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ServiceAuth,
    ServiceSigner,
    ServiceVerifier,
    derive_service_key,
    require_service,
)

MASTER = generate_master_key()
TARGET = "/api/keymanager/v1/api-keys?x=1"
BODY = b'{"applicationId":"app-1","keyType":"PRODUCTION"}'
BEARER = "Bearer user-token"


def _signed(
    *,
    service: str = "devportal",
    master: str = MASTER,
    method: str = "POST",
    target: str = TARGET,
    body: bytes = BODY,
    authorization: str | None = BEARER,
    now: float | None = None,
) -> httpx.Headers:
    headers = httpx.Headers(
        ServiceSigner(master, service).headers(method, target, body, authorization, now=now)
    )
    if authorization is not None:
        headers["Authorization"] = authorization
    return headers


def _verify(headers: httpx.Headers, **overrides: object) -> str:
    args: dict[str, object] = {
        "method": "POST",
        "target": TARGET,
        "body": BODY,
        "allowed": {"devportal"},
    }
    args.update(overrides)
    return ServiceVerifier(MASTER).verify(headers, **args)  # type: ignore[arg-type]


def _reject(kind: type[ServiceError], headers: httpx.Headers, **overrides: object) -> str:
    with pytest.raises(kind) as caught:
        _verify(headers, **overrides)
    return caught.value.description


def test_a_signed_request_verifies_as_its_service() -> None:
    headers = _signed()
    assert set(headers) >= {h.lower() for h in (SERVICE_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)}
    assert headers[SERVICE_HEADER] == "devportal"
    assert abs(int(headers[TIMESTAMP_HEADER]) - time.time()) <= 2
    assert _verify(headers) == "devportal"
    assert _verify(headers, method="post", target=TARGET.encode()) == "devportal"


def test_the_key_is_hkdf_derived_not_the_master_key() -> None:
    key = derive_service_key(MASTER)
    assert len(key) == 32
    assert key != decode_master_key(MASTER)
    assert key == derive_service_key(MASTER)
    assert key != derive_service_key(generate_master_key())
    # a signature made with the raw master key does not verify
    headers = _signed()
    timestamp = headers[TIMESTAMP_HEADER]
    message = "\n".join(
        (
            "aigw-service-auth-v1",
            "devportal",
            timestamp,
            "POST",
            TARGET,
            hashlib.sha256(BODY).hexdigest(),
            hashlib.sha256(BEARER.encode()).hexdigest(),
        )
    ).encode()
    raw = hmac.new(decode_master_key(MASTER), message, hashlib.sha256).digest()
    headers[SIGNATURE_HEADER] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    _reject(Unauthorized, headers)
    headers[SIGNATURE_HEADER] = (
        base64.urlsafe_b64encode(
            hmac.new(derive_service_key(MASTER), message, hashlib.sha256).digest()
        )
        .decode()
        .rstrip("=")
    )
    assert _verify(headers) == "devportal"  # sanity: the same message under the derived key


def test_tampered_body_is_rejected() -> None:
    reason = _reject(Unauthorized, _signed(), body=BODY.replace(b"app-1", b"app-2"))
    assert reason == "The service signature does not match the request"


@pytest.mark.parametrize(
    "target", ["/api/keymanager/v1/api-keys", "/api/keymanager/v1/api-keys?x=2", "/other?x=1"]
)
def test_wrong_path_or_query_is_rejected(target: str) -> None:
    _reject(Unauthorized, _signed(), target=target)


def test_wrong_method_is_rejected() -> None:
    _reject(Unauthorized, _signed(), method="DELETE")


def test_another_users_token_is_rejected() -> None:
    headers = _signed()
    headers["Authorization"] = "Bearer someone-else"
    _reject(Unauthorized, headers)
    del headers["Authorization"]
    _reject(Unauthorized, headers)


@pytest.mark.parametrize("skew", [-61, 61, -3600, 10**9])
def test_stale_or_future_timestamp_is_rejected(skew: int) -> None:
    headers = _signed(now=time.time() + skew)
    reason = _reject(Unauthorized, headers)
    assert reason == "The service signature has expired or is not yet valid"


def test_timestamp_within_the_window_is_accepted() -> None:
    assert _verify(_signed(now=time.time() - 50)) == "devportal"
    assert _verify(_signed(now=time.time() + 50)) == "devportal"


def test_a_signature_under_another_key_is_rejected() -> None:
    _reject(Unauthorized, _signed(master=generate_master_key()))


def test_a_service_not_allowed_is_403() -> None:
    reason = _reject(Forbidden, _signed(service="gateway"))
    assert reason == "The calling service is not allowed to make this request"


def test_claiming_another_service_name_is_rejected() -> None:
    headers = _signed(service="gateway")
    headers[SERVICE_HEADER] = "devportal"
    _reject(Unauthorized, headers)


@pytest.mark.parametrize("missing", [SERVICE_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER])
def test_missing_headers_are_403(missing: str) -> None:
    headers = _signed()
    del headers[missing]
    assert _reject(Forbidden, headers) == "The request carries no service signature"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        (TIMESTAMP_HEADER, "yesterday"),
        (TIMESTAMP_HEADER, "-5"),
        (SIGNATURE_HEADER, "not a signature"),
        (SIGNATURE_HEADER, "A" * 44),
    ],
)
def test_malformed_headers_are_401_without_echoing_them(header: str, value: str) -> None:
    headers = _signed()
    headers[header] = value
    reason = _reject(Unauthorized, headers)
    assert value not in reason
    assert "malformed" in reason


def test_service_names_are_validated() -> None:
    for bad in ("", "Dev Portal", "dev\nportal"):
        with pytest.raises(ValueError, match="not a service name"):
            ServiceSigner(MASTER, bad)


async def test_httpx_auth_signs_method_path_query_body_and_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler),
        base_url="http://km",
        auth=ServiceAuth(MASTER, "devportal"),
    ) as client:
        await client.post(
            "/a/b", params={"q": "x y"}, json={"k": 1}, headers={"Authorization": BEARER}
        )
        await client.get("/a/b")

    post, get = seen
    assert post.headers[SERVICE_HEADER] == "devportal"
    assert post.headers["authorization"] == BEARER  # forwarded untouched
    verifier = ServiceVerifier(MASTER)
    assert verifier.verify(post.headers, "POST", post.url.raw_path, post.content, {"devportal"})
    assert verifier.verify(get.headers, "GET", "/a/b", b"", {"devportal"})
    with pytest.raises(Unauthorized):
        verifier.verify(post.headers, "POST", "/a/b", post.content, {"devportal"})


class _Body(BaseModel):
    name: str


def _app() -> FastAPI:
    app = FastAPI()
    add_exception_handlers(app)

    app.state.settings = SimpleNamespace(secret_key=SecretStr(MASTER))  # as ServiceSettings
    caller = Depends(require_service("devportal", purpose="Only devportal may"))

    @app.post("/things")
    async def things(body: _Body, service: Annotated[str, caller]) -> dict[str, str]:
        return {"name": body.name, "service": service}

    return app


async def test_require_service_dependency_keeps_the_parsed_body() -> None:
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=_app()),
            base_url="http://svc",
            auth=ServiceAuth(MASTER, "devportal"),
        ) as signed,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://svc") as bare,
    ):
        ok = await signed.post("/things", params={"a": "1"}, json={"name": "n"})
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"name": "n", "service": "devportal"}

        unsigned = await bare.post("/things", json={"name": "n"})
        assert unsigned.status_code == 403
        assert unsigned.json()["description"] == (
            "Only devportal may: The request carries no service signature"
        )

        # a signed request replayed with another body
        request = signed.build_request("POST", "/things", json={"name": "n"})
        request = next(ServiceAuth(MASTER, "devportal").auth_flow(request))
        forged = await bare.post("/things", json={"name": "m"}, headers=dict(request.headers))
        assert forged.status_code == 401
        assert "does not match" in forged.json()["description"]
