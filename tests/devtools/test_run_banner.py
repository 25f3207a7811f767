"""`make run` prints where everything is, never a password inside a MONGODB_URL."""

import pytest

from aigw.devtools.run import without_password


@pytest.mark.parametrize(
    ("url", "printed"),
    [
        (
            "mongodb://aigw:s3cr%40t@mongo:27017/?replicaSet=rs0",
            "mongodb://aigw:***@mongo:27017/?replicaSet=rs0",
        ),
        (
            "mongodb://127.0.0.1:27017/?directConnection=true",
            "mongodb://127.0.0.1:27017/?directConnection=true",
        ),
        (
            "mongodb+srv://user:pw@cluster.example.net/db",
            "mongodb+srv://user:***@cluster.example.net/db",
        ),
    ],
)
def test_the_password_is_masked(url: str, printed: str) -> None:
    assert without_password(url) == printed
