from aigw.keymanager.users.passwords import (
    hash_password,
    needs_rehash,
    spend_verification,
    verify_password,
    verify_password_async,
)


def test_hash_is_argon2id_and_salted() -> None:
    first, second = hash_password("s3cret"), hash_password("s3cret")
    assert first.startswith("$argon2id$")
    assert "s3cret" not in first
    assert first != second  # random salt
    assert not needs_rehash(first)


def test_verify() -> None:
    stored = hash_password("s3cret")
    assert verify_password(stored, "s3cret")
    assert not verify_password(stored, "S3cret")
    assert not verify_password(stored, "")
    assert not verify_password("not-a-hash", "s3cret")


async def test_verify_async_and_unknown_user_path() -> None:
    stored = hash_password("s3cret")
    assert await verify_password_async(stored, "s3cret")
    assert not await verify_password_async(stored, "nope")
    await spend_verification("anything")  # must not raise
