"""A stand-in for keymanager's API-key and OAuth2-client endpoints, served through httpx.MockTransport.

It checks what devportal forwards (the caller's Authorization header, devportal's service
signature, the body's shape) and answers the way keymanager does: given the secret key, it
verifies the signature with aigw.common.service_auth and refuses to issue without it. The real
cross-service path is the end-to-end test's job.
"""

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from aigw.common.errors import ServiceError, Unauthorized
from aigw.common.service_auth import (
    SERVICE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ServiceVerifier,
)

PREFIX = "/api/keymanager/v1/api-keys"
CLIENTS = "/api/keymanager/v1/oauth-clients"


@dataclass
class FakeKeymanager:
    requests: list[httpx.Request] = field(default_factory=list)
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)
    down: bool = False
    fail_with: httpx.Response | None = None
    secret_key: str | None = None  # set: verify devportal's signatures as keymanager does

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if self.fail_with is not None:
            return self.fail_with
        assert request.headers["authorization"].startswith("Bearer ")
        for header in (SERVICE_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER):
            assert request.headers.get(header), f"{header} missing"
        if self.secret_key is not None and request.method == "POST":
            rejected = self._verify(request)
            if rejected is not None:
                return rejected
        return self._route(request)

    def _verify(self, request: httpx.Request) -> httpx.Response | None:
        assert self.secret_key is not None
        try:
            ServiceVerifier(self.secret_key).verify(
                request.headers,
                request.method,
                request.url.raw_path,
                request.content,
                {"devportal"},
            )
        except ServiceError as exc:
            body = {"code": exc.status_code, "message": exc.message, "description": exc.description}
            return httpx.Response(exc.status_code, json=body)
        return None

    def _route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path == PREFIX:
            return self._issue(json.loads(request.content))
        if request.method == "GET" and path == PREFIX:
            return self._list(request.url.params["applicationId"])
        if request.method == "POST" and path.startswith(PREFIX) and path.endswith("/regenerate"):
            return self._regenerate(path.split("/")[-2])
        if request.method == "DELETE" and path.startswith(f"{PREFIX}/"):
            return self._revoke(path.rsplit("/", 1)[1])
        if path.startswith(CLIENTS):
            return self._route_clients(request)
        return httpx.Response(404, json={"code": 404, "message": "Not found", "description": path})

    def _issue(self, body: dict[str, Any]) -> httpx.Response:
        assert set(body) == {"applicationId", "keyType", "apiId", "expiresIn"}
        key_id = str(uuid.uuid4())
        api_key = "aigw_" + uuid.uuid4().hex
        expires_at = "2030-01-01T00:00:00Z" if body["expiresIn"] else None
        issued = {k: body[k] for k in ("applicationId", "keyType", "apiId")}
        # stored as keymanager lists it (aigw.common.keymanager.KeySummary)
        self.keys[key_id] = {
            **issued,
            "id": key_id,
            "maskedKey": "****" + api_key[-4:],
            "expiresAt": expires_at,
            "createdTime": "2026-01-01T00:00:00Z",
            "revoked": False,
        }
        return httpx.Response(
            201, json={**issued, "id": key_id, "apiKey": api_key, "expiresAt": expires_at}
        )

    def _regenerate(self, key_id: str) -> httpx.Response:
        key = self.keys.get(key_id)
        if key is None:
            return _not_found("no such key")
        api_key = "aigw_" + uuid.uuid4().hex
        key["maskedKey"] = "****" + api_key[-4:]
        issued = {k: key[k] for k in ("id", "applicationId", "keyType", "apiId")}
        return httpx.Response(201, json={**issued, "apiKey": api_key, "expiresAt": None})

    def _route_clients(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path == CLIENTS:
            return self._create_client(json.loads(request.content))
        if request.method == "GET" and path == CLIENTS:
            return self._list_clients(request.url.params["applicationId"])
        if request.method == "DELETE":
            return self._revoke_client(path.rsplit("/", 1)[1])
        return _not_found(path)

    def _create_client(self, body: dict[str, Any]) -> httpx.Response:
        assert set(body) == {"applicationId", "keyType"}
        client_id = uuid.uuid4().hex[:24]
        client = {**body, "clientId": client_id, "createdTime": "2030-01-01T00:00:00Z"}
        self.clients[client_id] = {**client, "revoked": False}
        return httpx.Response(201, json={**client, "clientSecret": "secret-" + uuid.uuid4().hex})

    def _list_clients(self, application_id: str) -> httpx.Response:
        found = [c for c in self.clients.values() if c["applicationId"] == application_id]
        return httpx.Response(200, json={"count": len(found), "list": found})

    def _revoke_client(self, client_id: str) -> httpx.Response:
        if client_id not in self.clients:
            return _not_found("no such client")
        self.clients[client_id]["revoked"] = True
        return httpx.Response(204)

    def _list(self, application_id: str) -> httpx.Response:
        keys = [k for k in self.keys.values() if k["applicationId"] == application_id]
        return httpx.Response(200, json={"count": len(keys), "list": keys})

    def _revoke(self, key_id: str) -> httpx.Response:
        if self.keys.pop(key_id, None) is None:
            body = {"code": 404, "message": "Not found", "description": "no such key"}
            return httpx.Response(404, json=body)
        return httpx.Response(204)

    def last(self) -> httpx.Request:
        return self.requests[-1]


def _not_found(description: str) -> httpx.Response:
    return httpx.Response(
        404, json={"code": 404, "message": "Not found", "description": description}
    )


def assert_signed_by_devportal(request: httpx.Request, secret_key: str) -> None:
    """The request carries devportal's signature, and it verifies for exactly this request."""
    assert request.headers[SERVICE_HEADER] == "devportal"
    assert abs(int(request.headers[TIMESTAMP_HEADER]) - time.time()) <= 5
    assert request.headers[SIGNATURE_HEADER]
    verifier = ServiceVerifier(secret_key)
    target = request.url.raw_path
    args = (request.method, target, request.content, {"devportal"})
    assert verifier.verify(request.headers, *args) == "devportal"
    with pytest.raises(Unauthorized, match="does not match"):
        verifier.verify(
            request.headers, request.method, target + b"x", request.content, {"devportal"}
        )
    with pytest.raises(Unauthorized, match="does not match"):
        verifier.verify(
            request.headers, request.method, target, request.content + b" ", {"devportal"}
        )
