import pytest
from cryptography.exceptions import InvalidTag

from aigw.common.crypto import (
    SecretBox,
    decode_master_key,
    endpoint_origin,
    generate_master_key,
    mask_secret,
    provider_key_context,
)


def test_round_trip_binds_ciphertext_to_its_context() -> None:
    box = SecretBox(generate_master_key())
    url = "https://api.example.com/v1"
    token = box.encrypt("sk-provider-secret", provider_key_context("api-1", "production", url))
    assert "sk-provider-secret" not in token
    assert token.startswith(f"v1.{box.kid}.")
    opened = box.decrypt(token, provider_key_context("api-1", "production", url))
    assert opened == "sk-provider-secret"
    with pytest.raises(InvalidTag):
        box.decrypt(token, provider_key_context("api-1", "sandbox", url))


@pytest.mark.parametrize(
    "elsewhere",
    ["https://listener.example/v1", "http://api.example.com/v1", "https://api.example.com:8443"],
)
def test_a_provider_key_opens_only_for_its_origin(elsewhere: str) -> None:
    box = SecretBox(generate_master_key())
    token = box.encrypt(
        "sk", provider_key_context("api-1", "production", "https://api.example.com")
    )
    moved = "HTTPS://API.Example.com:443/v2/other?x=1"  # same origin, other spelling and path
    assert box.decrypt(token, provider_key_context("api-1", "production", moved)) == "sk"
    with pytest.raises(InvalidTag):
        box.decrypt(token, provider_key_context("api-1", "production", elsewhere))


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://API.example.com", "https://api.example.com:443"),
        ("http://example.com:80/x", "http://example.com:80"),
        ("https://user:pw@example.com:8443/", "https://example.com:8443"),
        ("http://[::1]:8080/v1", "http://[::1]:8080"),
        (None, ""),
    ],
)
def test_endpoint_origin_is_normalised(url: str | None, origin: str) -> None:
    assert endpoint_origin(url) == origin


@pytest.mark.parametrize("url", ["https://example.com:port", "https:///path", "https://h:70000"])
def test_endpoint_origin_refuses_urls_without_one(url: str) -> None:
    with pytest.raises(ValueError, match="(?i)port|host"):
        endpoint_origin(url)


def test_ciphertext_of_another_key_names_the_key_it_needs() -> None:
    token = SecretBox(generate_master_key()).encrypt("x", "ctx")
    with pytest.raises(ValueError, match="not configured"):
        SecretBox(generate_master_key()).decrypt(token, "ctx")


def test_same_plaintext_encrypts_differently_each_time() -> None:
    box = SecretBox(generate_master_key())
    assert box.encrypt("same", "ctx") != box.encrypt("same", "ctx")


@pytest.mark.parametrize("bad", ["", "short", "not base64 !!!", "a" * 40])
def test_master_key_must_be_32_bytes(bad: str) -> None:
    with pytest.raises(ValueError, match="32 random bytes"):
        decode_master_key(bad)


def test_mask_shows_at_most_the_last_four_characters() -> None:
    assert mask_secret("sk-0123456789abcdefWXYZ") == "****WXYZ"
    assert mask_secret("short-key") == "****"


def test_retired_key_still_decrypts_and_is_flagged_for_reencryption() -> None:
    old, new = generate_master_key(), generate_master_key()
    token = SecretBox(old).encrypt("sk-secret", "ctx")
    rotated = SecretBox(new, previous=[old])
    assert rotated.decrypt(token, "ctx") == "sk-secret"
    assert not rotated.is_current(token)
    assert rotated.is_current(rotated.encrypt("sk-secret", "ctx"))
