"""`make run`'s data folder: one per port set (or AIGW_DATA_DIR), locked while a run holds it,
and the old single `.data/` adopted as the default ports' folder."""

import hashlib
from pathlib import Path

import pytest

from aigw.devtools.data_dir import DataDirBusy, DataDirLock, adopt_legacy, choose, ports_hash
from aigw.devtools.stack import Ports


def test_the_default_ports_use_the_default_folder(tmp_path: Path) -> None:
    assert choose(Ports(), {}, tmp_path) == tmp_path / "default"


def test_other_ports_get_a_folder_of_their_own(tmp_path: Path) -> None:
    moved = Ports(publisher=9001)
    folder = choose(moved, {}, tmp_path)
    assert folder == tmp_path / f"ports-{ports_hash(moved)}"
    assert len(ports_hash(moved)) == 8
    assert ports_hash(moved) != ports_hash(Ports(devportal=9001))
    assert choose(Ports(publisher=9001), {}, tmp_path) == folder  # the same set, the same folder


def test_a_port_added_later_keeps_the_folders_earlier_runs_made() -> None:
    """The snapshotter's port came after the folders: at its default, a port set's folder is
    the one it had before; moved, it is a port set of its own."""
    before = "publisher=9001,devportal=8002,keymanager=8003,gateway=8280,mock_provider=8090,"
    before += "embeddings=8091,nats=4222,mongodb=27017"
    assert ports_hash(Ports(publisher=9001)) == hashlib.sha256(before.encode()).hexdigest()[:8]
    assert ports_hash(Ports(publisher=9001, snapshotter=9004)) != ports_hash(Ports(publisher=9001))


def test_aigw_data_dir_wins(tmp_path: Path) -> None:
    given = {"AIGW_DATA_DIR": str(tmp_path / "mine")}
    assert choose(Ports(publisher=9001), given, tmp_path) == tmp_path / "mine"


def test_a_held_folder_is_refused_with_its_name_and_the_holder(tmp_path: Path) -> None:
    first, second = DataDirLock(tmp_path / "d"), DataDirLock(tmp_path / "d")
    first.acquire()
    pid = (tmp_path / "d" / "run.lock").read_text().strip()
    with pytest.raises(
        DataDirBusy, match=rf"{tmp_path}/d/ is in use by another make run \(pid {pid}\)"
    ):
        second.acquire()
    first.release()
    second.acquire()  # released: free again
    second.release()


def test_the_old_layout_moves_into_the_default_folder(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("k")
    (tmp_path / "jetstream").mkdir()
    (tmp_path / "screenshots").mkdir()  # not make run's: stays
    assert adopt_legacy(tmp_path / "default", tmp_path) == ["secret.key", "jetstream"]
    assert (tmp_path / "default" / "secret.key").read_text() == "k"
    assert (tmp_path / "screenshots").is_dir()
    assert adopt_legacy(tmp_path / "default", tmp_path) == []
    assert adopt_legacy(tmp_path / "ports-12345678", tmp_path) == []
