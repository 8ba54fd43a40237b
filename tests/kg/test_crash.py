"""A kill -9 in the middle of a large import leaves the on-disk store exactly as it was before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from kg.io import import_file
from kg.store import FactStore
from tests.support import DEV_DIR

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from kg.io import import_file
    from kg.oxigraph_backend import OxigraphStore
    from kg.store import FactStore

    real_apply = OxigraphStore.apply

    def announce_then_apply(self, remove=(), add=()):
        print("writing", flush=True)
        real_apply(self, remove, add)

    OxigraphStore.apply = announce_then_apply
    store = FactStore.open(sys.argv[1])
    import_file(store, Path(sys.argv[2]))
    print("done", flush=True)
    """
)


def big_tsv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for i in range(rows):
            handle.write(f"N{i}\tnode {i}\tP36\tcapital\tN{i + 1}\tnode {i + 1}\n")


def test_kill_during_large_import_leaves_store_as_before(tmp_path: Path) -> None:
    url = f"oxigraph:{tmp_path / 'store'}"
    store = FactStore.open(url)
    import_file(store, DEV_DIR / "relations.tsv")
    import_file(store, DEV_DIR / "background.tsv")
    before = store.stats()
    store.close()

    data = tmp_path / "big.tsv"
    big_tsv(data, 150_000)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(data)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "writing"
    time.sleep(0.5)  # bulk-loading ~450,000 quads into the staging copy takes seconds
    child.send_signal(signal.SIGKILL)
    rest = child.stdout.read()
    child.wait()
    assert child.returncode == -signal.SIGKILL
    assert "done" not in rest, "the import finished before the kill; the test proves nothing"

    reopened = FactStore.open(url)
    assert reopened.stats() == before
    assert reopened.entity("N1") is None
    reopened.close()
