"""The provider-hop client against a real socket server that answers with canned HTTP/1.1:
framing (length, chunked, end of connection, HEAD), keep-alive reuse and when it must not
happen, a stale idle connection, failures, timeouts, the pool limit and backpressure."""

import asyncio
import collections
import socket
import ssl
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from pydantic import ValidationError

from aigw.common.crypto import generate_master_key
from aigw.devtools.processes import free_port
from aigw.gateway.app import new_upstream_pool
from aigw.gateway.client import AddressRefused, ConnectTimeout, Pool, UpstreamError
from aigw.gateway.client import connection as upstream_connection
from aigw.gateway.client.addresses import ANY_ADDRESS
from aigw.gateway.client.origin import split_url
from aigw.gateway.settings import Settings
from tests.support.offline import offline_bus_settings
from tests.support.tls import self_signed

OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: 2\r\n\r\n{}"

Answer = Callable[[bytes, asyncio.StreamWriter], bytes | None]


@dataclass
class Server:
    """Answers each request on a connection with `answer(request head)`; None closes."""

    answer: Answer
    port: int = field(default_factory=free_port)
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                out = self.answer(head, writer)
                if out is None:
                    break
                writer.write(out)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def up(answer: Answer) -> tuple[Server, asyncio.Server]:
    server = Server(answer)
    listening = await asyncio.start_server(server.handle, "127.0.0.1", server.port)
    return server, listening


def local_pool(**options: object) -> Pool:
    """A pool that may connect to this machine's servers, as in dev mode."""
    return Pool(addresses=ANY_ADDRESS, **options)  # type: ignore[arg-type]


def always(response: bytes) -> Answer:
    return lambda head, writer: response


async def test_a_fixed_length_answer_and_a_reused_connection():
    server, listening = await up(always(OK))
    pool = local_pool()
    async with listening:
        for _ in range(3):
            resp = await pool.request("POST", f"{server.url}/v1/x?a=1", [("x-k", "v")], b"{}")
            assert (resp.status, resp.content_type, resp.content_length) == (
                200,
                "application/json",
                2,
            )
            assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
            assert await resp.read() == b"{}"
            resp.release()
        await pool.close()
    assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /v1/x?a=1 HTTP/1.1\r\nhost: 127.0.0.1:")
    assert b"\r\nx-k: v\r\ncontent-length: 2\r\n\r\n{}" in first


async def test_a_chunked_answer_streams_and_the_connection_is_reused():
    chunked = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
        b"7\r\ndata: 1\r\n7\r\ndata: 2\r\n0\r\n\r\n"
    )
    server, listening = await up(always(chunked))
    pool = local_pool()
    async with listening:
        for _ in range(2):
            resp = await pool.request("GET", f"{server.url}/s", [], b"")
            assert resp.content_length is None
            assert b"".join([chunk async for chunk in resp.iter_any()]) == b"data: 1data: 2"
            resp.release()
        await pool.close()
    assert server.connections == 1
    assert b"content-length" not in server.requests[0]  # a GET without a body


@pytest.mark.parametrize(
    "head",
    [b"HTTP/1.1 200 OK\r\n\r\n", b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n"],
    ids=["no length, no chunking", "a transfer coding other than chunked"],
)
async def test_an_answer_without_length_ends_with_the_connection(head):
    def then_close(request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(head + b"all of it")

    server, listening = await up(then_close)
    pool = local_pool(read_timeout=3)
    async with listening:
        resp = await pool.request("GET", f"{server.url}/", [], b"")
        assert await resp.read() == b"all of it"
        resp.release()
        await pool.close()


async def test_head_answers_have_no_body_and_do_not_hang():
    server, listening = await up(always(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n"))
    pool = local_pool(read_timeout=5)
    async with listening:
        resp = await pool.request("HEAD", f"{server.url}/", [], b"")
        assert (resp.status, resp.content_length, await resp.read()) == (200, 100, b"")
        resp.release()
        await pool.close()


async def test_an_answer_not_read_to_its_end_is_not_reused():
    partial = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"  # 7 bytes still to come
    answers = iter([partial, OK, OK])
    server, listening = await up(lambda head, writer: next(answers))
    pool = local_pool()
    async with listening:
        resp = await pool.request("GET", f"{server.url}/", [], b"")
        resp.release()  # left before its end: closed, not pooled
        resp = await pool.request("GET", f"{server.url}/", [], b"")
        assert await resp.read() == b"{}"
        resp.close()  # read to its end, but closed on purpose
        resp = await pool.request("GET", f"{server.url}/", [], b"")
        await resp.read()
        resp.release()
        await pool.close()
    assert server.connections == 3


async def warm(pool: Pool, url: str, connections: int) -> None:
    """Leave `connections` idle connections to `url` in the pool."""
    answers = await asyncio.gather(*(pool.request("GET", url, [], b"") for _ in range(connections)))
    for resp in answers:
        await resp.read()
        resp.release()


def closing_after_first() -> Answer:
    """Each connection answers its first request and closes on the second, the way a provider
    drops a connection that has been idle too long."""
    seen: collections.Counter[tuple[str, int]] = collections.Counter()

    def answer(head: bytes, writer: asyncio.StreamWriter) -> bytes | None:
        client = writer.get_extra_info("peername")  # not id(writer): ids are reused
        seen[client] += 1
        return OK if seen[client] == 1 else None

    return answer


@pytest.mark.parametrize(
    ("method", "headers", "retried"),
    [
        ("GET", [], True),
        ("POST", [("idempotency-key", "k1")], True),
        ("POST", [], False),  # the provider may have read it: not sent twice
    ],
    ids=["GET", "POST with Idempotency-Key", "POST"],
)
async def test_a_pooled_connection_found_closed_is_retried_on_a_new_one(method, headers, retried):
    server, listening = await up(closing_after_first())
    pool = local_pool()
    async with listening:
        await warm(pool, server.url, 3)  # three pooled connections, all of them stale
        if retried:
            resp = await pool.request(method, f"{server.url}/", headers, b"")
            assert await resp.read() == b"{}"
            resp.release()
        else:
            with pytest.raises(UpstreamError, match="closed the connection"):
                await pool.request(method, f"{server.url}/", headers, b"")
        await pool.close()
    assert server.connections == (4 if retried else 3)


async def test_a_second_answer_in_the_same_read_is_never_seen_and_the_connection_is_dropped():
    foreign = b"HTTP/1.1 200 OK\r\nx-foreign: yes\r\ncontent-length: 6\r\n\r\nSECRET"
    server, listening = await up(always(OK + foreign))
    pool = local_pool()
    async with listening:
        for _ in range(2):
            resp = await pool.request("GET", f"{server.url}/", [], b"")
            assert await resp.read() == b"{}"
            assert "x-foreign" not in resp.headers
            assert len(resp.raw_headers) == 2
            resp.release()
        await pool.close()
    assert server.connections == 2


async def test_an_answer_released_unread_while_paused_does_not_stall_the_next(monkeypatch):
    monkeypatch.setattr(upstream_connection, "HIGH_WATER", 1000)  # one small read pauses it
    body = b"x" * 1500
    answer = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
    server, listening = await up(always(answer))
    pool = local_pool(read_timeout=3)
    async with listening:
        resp = await pool.request("GET", f"{server.url}/", [], b"")
        conn = resp._conn  # the case under test: all of it arrived, reading is paused
        assert conn.complete
        assert conn.paused
        resp.release()  # unread
        resp = await pool.request("GET", f"{server.url}/", [], b"")
        assert resp._conn is conn
        assert await resp.read() == body
        resp.release()
        await pool.close()


async def test_idle_connections_are_closed_after_keepalive():
    server, listening = await up(always(OK))
    pool = local_pool(keepalive=0.3)
    async with listening:
        await warm(pool, server.url, 3)
        assert sum(len(idle) for idle in pool._idle.values()) == 3
        for _ in range(50):  # swept within two keepalive periods; timers may run late
            if not pool._idle:
                break
            await asyncio.sleep(0.1)
        assert not pool._idle
        assert not pool._open
        await pool.close()


async def test_a_reset_connection_is_not_a_complete_answer():
    def reset_mid_body(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b'HTTP/1.1 200 OK\r\n\r\n{"partial": ')  # no length: ends with the connection
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # RST, not FIN

    server, listening = await up(reset_mid_body)
    pool = local_pool(read_timeout=3)
    async with listening:
        resp = await pool.request("GET", f"{server.url}/", [], b"")
        with pytest.raises(UpstreamError):
            await resp.read()
        resp.close()
        await pool.close()


async def test_a_connection_that_never_completes_its_handshake_is_a_connect_timeout():
    server, listening = await up(always(OK))  # plain TCP: a TLS handshake never finishes
    pool = local_pool(connect_timeout=0.3)
    async with listening:
        with pytest.raises(ConnectTimeout):
            await pool.request("POST", f"https://127.0.0.1:{server.port}/", [], b"{}")
        await pool.close()


async def test_failures_and_timeouts():
    pool = local_pool(read_timeout=0.2, connect_timeout=2)
    with pytest.raises(UpstreamError, match="cannot connect"):
        await pool.request("GET", f"http://127.0.0.1:{free_port()}/", [], b"")
    server, listening = await up(lambda head, writer: b"")  # never answers
    async with listening:
        with pytest.raises(TimeoutError):
            await pool.request("GET", f"{server.url}/", [], b"")
    server, listening = await up(always(b"NOT HTTP AT ALL\r\n\r\n"))
    async with listening:
        with pytest.raises(UpstreamError, match="not valid HTTP"):
            await pool.request("GET", f"{server.url}/", [], b"")
    server, listening = await up(always(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"))
    async with listening:
        resp = await pool.request("GET", f"{server.url}/", [], b"")
        with pytest.raises(TimeoutError):
            await resp.read()  # 7 bytes never come
        resp.close()
    await pool.close()


async def test_the_pool_limit_makes_callers_wait_for_a_free_connection():
    server, listening = await up(always(OK))
    pool = local_pool(limit=1)
    async with listening:
        first = await pool.request("GET", f"{server.url}/", [], b"")
        second = asyncio.ensure_future(pool.request("GET", f"{server.url}/", [], b""))
        await asyncio.sleep(0.05)
        assert not second.done()
        await first.read()
        first.release()
        resp = await second
        await resp.read()
        resp.release()
        await pool.close()
    assert server.connections == 1


async def test_a_slow_reader_pauses_the_socket():
    size = 4 * 1024 * 1024
    big = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % size + b"x" * size
    server, listening = await up(always(big))
    pool = local_pool()
    async with listening:
        resp = await pool.request("GET", f"{server.url}/", [], b"")
        await asyncio.sleep(0.2)  # the server keeps writing; the client stops reading
        first = await resp.readany()
        assert 0 < len(first) < size
        assert len(first) + len(await resp.read()) == size
        resp.release()
        await pool.close()


async def test_unsupported_urls_are_refused():
    with pytest.raises(UpstreamError):
        await local_pool().request("GET", "ftp://example.com/", [], b"")


@pytest.mark.parametrize(
    ("url", "host", "port", "header", "target"),
    [
        (
            "https://api.example.com/v1/chat?x=1",
            "api.example.com",
            443,
            b"api.example.com",
            b"/v1/chat?x=1",
        ),
        ("http://api.example.com:8080", "api.example.com", 8080, b"api.example.com:8080", b"/"),
        ("http://h?key=%2F", "h", 80, b"h", b"/?key=%2F"),
        ("http://[::1]:9000/a%20b", "::1", 9000, b"[::1]:9000", b"/a%20b"),
        ("https://bücher.example/", "bücher.example", 443, b"xn--bcher-kva.example", b"/"),
    ],
)
def test_origin_and_target(url, host, port, header, target):
    origin, request_target = split_url(url)
    assert (origin.host, origin.port, origin.host_header, request_target) == (
        host,
        port,
        header,
        target,
    )


async def test_https_verifies_the_provider_certificate(tmp_path):
    cert_file, key_file = self_signed(tmp_path)  # for 127.0.0.1 and localhost
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert_file, key_file)
    server = Server(always(OK))
    listening = await asyncio.start_server(server.handle, "127.0.0.1", server.port, ssl=served)
    async with listening:
        trusting = local_pool(ssl_context=ssl.create_default_context(cafile=str(cert_file)))
        for host in ("127.0.0.1", "localhost"):
            resp = await trusting.request("GET", f"https://{host}:{server.port}/", [], b"")
            assert await resp.read() == b"{}"
            resp.release()
        await trusting.close()
        with pytest.raises(UpstreamError, match="certificate verify failed"):
            await local_pool().request("GET", f"https://127.0.0.1:{server.port}/", [], b"")
        configured = new_upstream_pool(
            Settings(
                secret_key=generate_master_key(),
                upstream_ca_file=cert_file,
                dev_mode=True,
                **offline_bus_settings("gateway"),
            )
        )  # GATEWAY_UPSTREAM_CA_FILE
        resp = await configured.request("GET", f"https://localhost:{server.port}/", [], b"")
        assert resp.status == 200
        resp.close()
        await configured.close()
    with pytest.raises(ValidationError, match="upstream_ca_file"):
        Settings(
            secret_key=generate_master_key(),
            upstream_ca_file=tmp_path / "missing.pem",
            **offline_bus_settings("gateway"),
        )
    assert server.requests[0].startswith(b"GET / HTTP/1.1\r\nhost: 127.0.0.1:")


# --- which addresses the pool connects to --------------------------------------------------


def gateway_pool(**settings: object) -> Pool:
    """The pool as the gateway builds it from its settings."""
    return new_upstream_pool(
        Settings(secret_key=generate_master_key(), **offline_bus_settings("gateway"), **settings)
    )


async def assert_refused(pool: Pool, url: str) -> None:
    async def call() -> None:
        resp = await pool.request("POST", url, [], b"{}")
        resp.close()  # it connected after all: let the server shut down (the test fails)

    with pytest.raises(UpstreamError, match="may not connect to") as refused:
        await call()
    assert isinstance(refused.value, AddressRefused)


LOOPBACK_SPELLINGS = [
    "127.0.0.1",
    "localhost",
    "2130706433",
    "0x7f000001",
    "127.1",
    "１２７.０.０.１",
]


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
async def test_outside_dev_mode_a_loopback_provider_is_refused_without_a_connection(host):
    server, listening = await up(always(OK))
    pool = gateway_pool(dev_mode=False)
    async with listening:
        await assert_refused(pool, f"http://{host}:{server.port}/v1/chat")
        await assert_refused(pool, f"https://{host}:{server.port}/v1/chat")
        await pool.close()
        # a connection made now is accepted after any the refused calls made, so this shows
        # that they made none
        probe = gateway_pool(dev_mode=True)
        await (await probe.request("GET", f"{server.url}/", [], b"")).read()
        await probe.close()
    assert server.connections == 1
    assert not server.requests[0].startswith(b"POST")


async def test_outside_dev_mode_only_allow_listed_networks_are_reachable():
    server, listening = await up(always(OK))
    async with listening:
        for networks in ("", "10.0.0.0/8,fd00::/8", "127.0.0.2/32"):
            pool = gateway_pool(dev_mode=False, upstream_allowed_networks=networks)
            await assert_refused(pool, f"http://localhost:{server.port}/")
            await pool.close()
        assert server.connections == 0
        pool = gateway_pool(dev_mode=False, upstream_allowed_networks="10.0.0.0/8, 127.0.0.0/8")
        for host in ("127.0.0.1", "localhost"):
            resp = await pool.request("GET", f"http://{host}:{server.port}/", [], b"")
            assert await resp.read() == b"{}"
            resp.release()
        await pool.close()
    assert server.connections == 2  # one per origin, reused after


async def test_a_pooled_connection_is_reused_without_resolving_again(monkeypatch):
    server, listening = await up(always(OK))
    pool = gateway_pool(dev_mode=False, upstream_allowed_networks="127.0.0.0/8")
    loop = asyncio.get_running_loop()
    resolved: list[str] = []
    real = loop.getaddrinfo

    async def counting(host, *args, **kwargs):
        resolved.append(host)
        return await real(host, *args, **kwargs)

    monkeypatch.setattr(loop, "getaddrinfo", counting)
    async with listening:
        for _ in range(3):
            resp = await pool.request("GET", f"http://localhost:{server.port}/", [], b"")
            await resp.read()
            resp.release()
        await pool.close()
    assert resolved == ["localhost"]
    assert server.connections == 1


async def test_the_pool_connects_to_the_address_it_checked_not_to_the_name_again(monkeypatch):
    """DNS rebinding: a name that answers an allowed address when checked and another one
    the moment after must not reach the other one."""
    server, listening = await up(always(OK))  # 127.0.0.1, allow-listed
    elsewhere = Server(always(OK), port=server.port)  # the same port on 127.0.0.3
    elsewhere_listening = await asyncio.start_server(elsewhere.handle, "127.0.0.3", server.port)
    answers = iter(["127.0.0.1"])
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def rebinding(host, port, *args, **kwargs):
        if host == "rebind.example":
            host = next(answers, "127.0.0.3")
        return await real(host, port, *args, **kwargs)

    monkeypatch.setattr(loop, "getaddrinfo", rebinding)
    pool = gateway_pool(dev_mode=False, upstream_allowed_networks="127.0.0.1/32")
    async with listening, elsewhere_listening:
        resp = await pool.request("GET", f"http://rebind.example:{server.port}/", [], b"")
        assert await resp.read() == b"{}"
        resp.close()
        await pool.close()
    assert elsewhere.connections == 0
    assert server.requests[0].startswith(b"GET / HTTP/1.1\r\nhost: rebind.example:")


async def test_https_to_a_checked_address_still_verifies_the_host_name(tmp_path):
    cert_file, key_file = self_signed(tmp_path)  # for 127.0.0.1 and localhost
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert_file, key_file)
    server = Server(always(OK))
    listening = await asyncio.start_server(server.handle, "127.0.0.1", server.port, ssl=served)
    async with listening:
        pool = gateway_pool(
            dev_mode=False, upstream_allowed_networks="127.0.0.0/8", upstream_ca_file=cert_file
        )
        resp = await pool.request("GET", f"https://localhost:{server.port}/", [], b"")
        assert await resp.read() == b"{}"
        resp.release()
        await pool.close()


def test_allowed_networks_must_be_networks():
    for bad in ("10.0.0.0/33", "localhost", "10.0.0.1/8"):
        with pytest.raises(ValidationError, match="upstream_allowed_networks"):
            Settings(
                secret_key=generate_master_key(),
                upstream_allowed_networks=bad,
                **offline_bus_settings("gateway"),
            )


async def test_a_redirect_is_relayed_not_followed():
    target, target_listening = await up(always(OK))
    redirect = (
        b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:%d/elsewhere\r\n"
        b"content-length: 0\r\n\r\n" % target.port
    )
    server, listening = await up(always(redirect))
    pool = Pool(addresses=ANY_ADDRESS)
    async with listening, target_listening:
        resp = await pool.request("GET", f"{server.url}/v1/models", [], b"")
        assert resp.status == 302
        assert resp.headers["location"] == f"http://127.0.0.1:{target.port}/elsewhere"
        assert await resp.read() == b""
        resp.release()
        await pool.close()
    assert target.connections == 0
