"""Backups survive a killed export, and a damaged backup is refused before anything is written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kg.errors import InputError
from kg.io import export_file, import_file
from kg.records import EditRequest, Entity
from kg.store import FactStore
from tests.support import tiny_world

ROOT = Path(__file__).resolve().parents[2]

# Exports a store of ~40,000 entities again and again, saying when each export starts.
EXPORTER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from kg.io import export_file
    from kg.store import FactStore
    store = FactStore.open(sys.argv[1])
    while True:
        print("export", flush=True)
        export_file(store, Path(sys.argv[2]))
    """
)


def _world_with_edits() -> FactStore:
    store = FactStore.open("memory:")
    store.import_bundle(tiny_world())
    store.edit(EditRequest("Q142", "P36", "Q456", author="curator", note="moved"))
    store.edit(EditRequest("Q38", "P37", "Q150"))
    store.retract("E2")
    return store


def _contents(store: FactStore) -> set[tuple[object, ...]]:
    return set(store.backend.quads())


def test_backup_carries_a_checksum_and_restores_exactly(tmp_path: Path) -> None:
    original = _world_with_edits()
    path = tmp_path / "backup.nq"
    count = export_file(original, path)
    assert path.read_text(encoding="utf-8").splitlines()[-1].endswith(
        f"{count} quads sha256 " + path.read_text(encoding="utf-8").splitlines()[-1].split()[-1]
    )
    restored = FactStore.open("memory:")
    import_file(restored, path)
    assert _contents(restored) == _contents(original)


@pytest.mark.parametrize("cut", [i / 20 for i in range(20)])
def test_truncated_backup_is_refused_and_the_store_stays_empty(tmp_path: Path, cut: float) -> None:
    path = tmp_path / "backup.nq"
    export_file(_world_with_edits(), path)
    data = path.read_bytes()
    damaged = tmp_path / "cut.nq"
    damaged.write_bytes(data[: int(len(data) * cut)])
    target = FactStore.open("memory:")
    with pytest.raises(InputError, match="backup"):
        import_file(target, damaged)
    assert _contents(target) == set()
    # The store is still usable: the complete backup restores into it.
    import_file(target, path)
    assert target.stats().edits == {"active": 1, "retracted": 1}


def test_altered_backup_fails_its_checksum(tmp_path: Path) -> None:
    path = tmp_path / "backup.nq"
    export_file(_world_with_edits(), path)
    text = path.read_text(encoding="utf-8").replace("Lyon", "Lion")
    path.write_text(text, encoding="utf-8")
    target = FactStore.open("memory:")
    with pytest.raises(InputError, match="checksum"):
        import_file(target, path)
    assert _contents(target) == set()


def test_killed_export_leaves_the_old_backup_intact_or_the_new_one_complete(tmp_path: Path) -> None:
    url = f"oxigraph:{tmp_path / 'store'}"
    store = FactStore.open(url)
    store.add_entities(Entity(f"e{i}", f"entity number {i} " + "x" * 40) for i in range(40_000))
    store.close()
    path = tmp_path / "backup.nq"
    first = FactStore.open(url)
    export_file(first, path)
    first.close()
    good = path.read_bytes()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    mid_write = 0
    for trial in range(10):
        child = subprocess.Popen(
            [sys.executable, "-c", EXPORTER, url, str(path)], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "export"
        time.sleep(0.05 + 0.07 * trial)  # kill at a different point of the export each time
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        assert path.read_bytes() == good, f"trial {trial}: the backup was changed by a killed export"
        # A half-written temp file beside the backup shows the kill fell inside the write.
        for temp in tmp_path.glob(".backup.nq.*"):
            mid_write += 1
            temp.unlink()
    assert mid_write >= 5, f"only {mid_write} of 10 kills fell inside an export's write"


def test_export_to_a_folder_or_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    store = _world_with_edits()
    with pytest.raises(InputError, match="is a folder"):
        export_file(store, tmp_path)
    with pytest.raises(InputError, match="no such folder"):
        export_file(store, tmp_path / "missing" / "backup.nq")


def test_export_that_cannot_be_written_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _world_with_edits()
    path = tmp_path / "facts.tsv"
    path.write_text("yesterday\n", encoding="utf-8")

    def disk_full(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("kg.io.tsv.write_triples_tsv", disk_full)
    with pytest.raises(InputError, match="No space left on device"):
        export_file(store, path)
    assert path.read_text(encoding="utf-8") == "yesterday\n"
    assert [p.name for p in tmp_path.iterdir()] == ["facts.tsv"]
