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
