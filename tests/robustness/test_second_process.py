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
