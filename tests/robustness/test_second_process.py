"""A second process opening the same on-disk store gets a clear StoreError, and nothing is corrupted."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from kg.records import EditRequest
from kg.store import FactStore
from tests.support import tiny_world

ROOT = Path(__file__).resolve().parents[2]
CHILD = textwrap.dedent(
    """
    import sys
    from kg.errors import StoreError
    from kg.store import FactStore
    try:
        FactStore.open(sys.argv[1])
    except StoreError as exc:
        print("StoreError:", exc)
        sys.exit(3)
    print("opened")
    """
)


def test_second_process_opening_the_same_oxigraph_dir_gets_a_clear_store_error(tmp_path: Path) -> None:
    url = f"oxigraph:{tmp_path / 'store'}"
    store = FactStore.open(url)
    store.import_bundle(tiny_world())
    store.edit(EditRequest("Q142", "P36", "Q456"))
    before = (store.stats(), store.revision(), sorted(store.current_facts(), key=lambda f: f.id))
    child = subprocess.run(
        [sys.executable, "-c", CHILD, url],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert child.returncode == 3, child.stdout + child.stderr
    assert "another kgedit process" in child.stdout
    assert "Traceback" not in child.stderr
    # The first process is unaffected and keeps writing.
    assert (store.stats(), store.revision(), sorted(store.current_facts(), key=lambda f: f.id)) == before
    store.edit(EditRequest("Q142", "P36", "Q90"))
    assert [f.object for f in store.objects("Q142", "P36")] == ["Q90"]
    store.close()
    reopened = FactStore.open(url)
    assert [f.object for f in reopened.objects("Q142", "P36")] == ["Q90"]
    reopened.close()


HOLDER = textwrap.dedent(
    """
    import sys, time
    from kg.records import EditRequest
    from kg.store import FactStore
    store = FactStore.open(sys.argv[1])
    store.edit(EditRequest("Q142", "P36", "Q456", note="held"))
    print("holding", flush=True)
    sys.stdin.readline()
    """
)


def test_read_only_commands_work_while_another_process_holds_the_store(tmp_path: Path) -> None:
    home = tmp_path / "home"
    url = f"oxigraph:{home / 'store'}"
    store = FactStore.open(url)
    store.import_bundle(tiny_world())
    store.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KGEDIT_HOME": str(home)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"

        def kgedit(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env
            )

        shown = kgedit("kg", "show", "France")
        assert shown.returncode == 0, shown.stderr
        assert "Lyon" in shown.stdout and "E1" in shown.stdout  # the holder's unflushed edit is seen
        assert kgedit("kg", "stats").returncode == 0
        exported = kgedit("kg", "export", str(tmp_path / "backup.nq"))
        assert exported.returncode == 0 and (tmp_path / "backup.nq").stat().st_size > 0, exported.stderr
        refused = kgedit("kg", "add", "France", "P36", "Q90")
        assert refused.returncode == 2 and "another kgedit process" in refused.stderr
        assert "Traceback" not in refused.stderr + shown.stderr
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=60)
    reopened = FactStore.open(url)
    assert [f.object for f in reopened.objects("Q142", "P36")] == ["Q456"]
    reopened.close()


def test_store_keeps_only_a_few_rocksdb_logs_over_many_commands(tmp_path: Path) -> None:
    url = f"oxigraph:{tmp_path / 'store'}"
    for _ in range(12):
        FactStore.open(url).close()
    assert len(list((tmp_path / "store").glob("LOG*"))) <= 3


def test_a_reader_never_touches_an_import_that_the_holder_is_staging(tmp_path: Path) -> None:
    """Recovering a cut-short bulk import is only for the process that holds the store: a reader
    arriving mid-import must not discard the staging copy being written."""
    url = f"oxigraph:{tmp_path / 'store'}"
    holder = FactStore.open(url)
    holder.import_bundle(tiny_world())
    staging = tmp_path / "store.staging"
    staging.mkdir()
    (staging / "being-written").write_text("x", encoding="utf-8")
    reader = FactStore.open(url, read_only=True)
    assert reader.entity("Q142") is not None
    assert (staging / "being-written").exists()
    reader.close()
    holder.close()
    FactStore.open(url).close()  # the next owner discards the unfinished copy
    assert not staging.exists()
