import asyncio

import pytest

from aigw.common.auth import JwksCache, TokenVerifier
from aigw.common.errors import Unauthorized, Unavailable
from tests.support.tokens import TestSigner


async def test_valid_token_gives_its_subject_and_roles(signer: TestSigner) -> None:
    verifier = TokenVerifier(JwksCache(signer.fetch_jwks))
    principal = await verifier.verify(signer.token("alice", ("subscriber",)))
    assert principal.subject == "alice"
    assert principal.roles == frozenset({"subscriber"})


async def test_keymanager_outage_is_503_not_401(signer: TestSigner) -> None:
    async def down() -> dict[str, object]:
        raise OSError("connection refused")

    verifier = TokenVerifier(JwksCache(down, min_refresh_seconds=0))
    with pytest.raises(Unavailable):
        await verifier.verify(signer.token())


async def test_token_of_an_unknown_signer_is_401(signer: TestSigner) -> None:
    verifier = TokenVerifier(JwksCache(signer.fetch_jwks))
    with pytest.raises(Unauthorized, match="unknown key"):
        await verifier.verify(TestSigner().token())


async def test_expired_token_is_401(signer: TestSigner) -> None:
    verifier = TokenVerifier(JwksCache(signer.fetch_jwks))
    with pytest.raises(Unauthorized, match="expired"):
        await verifier.verify(signer.token(ttl=-120))


class _Jwks:
    """A JWKS whose keys the test changes, counting the fetches."""

    def __init__(self, *signers: TestSigner) -> None:
        self.signers = list(signers)
        self.fetches = 0

    async def fetch(self) -> dict[str, object]:
        self.fetches += 1
        return {"keys": [k for s in self.signers for k in s.jwks()["keys"]]}


async def test_a_key_that_left_the_jwks_stops_verifying_after_the_refresh_interval(
    signer: TestSigner,
) -> None:
    jwks = _Jwks(signer)
    verifier = TokenVerifier(JwksCache(jwks.fetch, refresh_seconds=0.05))
    token = signer.token()
    assert (await verifier.verify(token)).subject == "admin"
    jwks.signers = [TestSigner()]  # rotated away (or withdrawn in an emergency)
    await asyncio.sleep(0.1)  # the refresh interval passes: JwksCache reads the real clock
    with pytest.raises(Unauthorized, match="unknown key"):
        await verifier.verify(token)


async def test_a_flood_of_unknown_kids_fetches_the_jwks_once(signer: TestSigner) -> None:
    jwks = _Jwks(signer)
    verifier = TokenVerifier(JwksCache(jwks.fetch, min_refresh_seconds=60, refresh_seconds=600))
    await verifier.verify(signer.token())
    for _ in range(50):
        with pytest.raises(Unauthorized, match="unknown key"):
            await verifier.verify(TestSigner().token())
    assert jwks.fetches == 1


async def test_the_last_keys_stay_in_use_while_keymanager_is_unreachable(
    signer: TestSigner,
) -> None:
    jwks = _Jwks(signer)
    cache = JwksCache(jwks.fetch, refresh_seconds=0.05)
    verifier = TokenVerifier(cache)
    await verifier.verify(signer.token())

    async def down() -> dict[str, object]:
        raise OSError("connection refused")

    cache._fetch = down
    await asyncio.sleep(0.1)  # a refresh is due (JwksCache reads the real clock), and fails
    assert (await verifier.verify(signer.token())).subject == "admin"
