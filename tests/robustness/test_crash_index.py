"""kill -9 during a fact-index rebuild: after a restart the index is rebuilt or verified and agrees
with the store (the store is the truth; the index and the embedding cache are derived data).

A child process opens the store with its index file missing, so it rebuilds; it is killed either
while it embeds the statements or the moment it starts writing the index file. The parent then
opens the index the way the app does and checks it holds exactly the store's current facts, that
edits are marked as edits, and that a search finds the edited fact.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kg.records import EditRequest, Entity, Origin, Relation
from kg.store import FactStore, ImportBundle
from retrieval.embedder import Embedder
from retrieval.index import FactIndex

ROOT = Path(__file__).resolve().parents[2]
FACTS = 1500
NEXT = Relation("P1", "next stop", "The stop after {subject} is {object}.", "What comes after {subject}?", True)

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from kg.store import FactStore
    from retrieval import index_file
    from retrieval.embedder import Embedder
    from retrieval.index import FactIndex

    real_save = index_file.save

    def announce_then_save(path, snapshot):
        print("saving", flush=True)
        real_save(path, snapshot)
        print("saved", flush=True)

    index_file.save = announce_then_save
    store = FactStore.open(sys.argv[1])
    embedder = Embedder(cache_dir=Path(sys.argv[3]))
    embedder.encode(["warm up"])
    print("rebuilding", flush=True)
    FactIndex.open(store, Path(sys.argv[2]), embedder)
    print("done", flush=True)
    """
)


def line_world() -> ImportBundle:
    words = ["amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "heath", "islet", "juniper"]
    entities = [Entity(f"N{i}", f"{words[i % 10].title()} {words[i // 10 % 10]} stop {i}") for i in range(FACTS + 1)]
    entities.append(Entity("X", "Zanzibar harbour terminus"))
    facts = [(f"N{i}", "P1", f"N{i + 1}") for i in range(FACTS)]
    return ImportBundle(entities, [NEXT], facts, source="test")


@pytest.mark.slow
@pytest.mark.parametrize("kill_on", ["rebuilding", "saving"])
def test_kill_during_index_rebuild_leaves_an_index_that_agrees_with_the_store(
    tmp_path: Path, kill_on: str
) -> None:
    url = f"oxigraph:{tmp_path / 'store'}"
    store = FactStore.open(url)
    store.import_bundle(line_world())
    edit = store.edit(EditRequest("N7", "P1", "X", author="test")).edit
    store.close()
    index_dir, cache_dir = tmp_path / "index", tmp_path / "cache"

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(index_dir), str(cache_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"},
    )
    assert child.stdout is not None
    seen = []
    for line in child.stdout:
        seen.append(line.strip())
        if seen[-1] == kill_on:
            break
    assert seen and seen[-1] == kill_on, f"the child stopped early: {seen}"
    if kill_on == "rebuilding":
        time.sleep(1.0)  # in the middle of embedding thousands of statements
    child.send_signal(signal.SIGKILL)
    seen += child.stdout.read().split()
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert "done" not in seen, "the rebuild finished before the kill; the test proves nothing"

    store = FactStore.open(url)
    try:
        index = FactIndex.open(store, index_dir, Embedder(cache_dir=cache_dir))
        current = {fact.id: fact for fact in store.current_facts()}
        assert index.fact_ids() == set(current)
        hits = index.search("The stop after Amber birch stop 7 is Zanzibar harbour terminus.", k=3)
        assert hits[0].fact.triple == current[hits[0].fact.id].triple
        assert (hits[0].fact.subject, hits[0].fact.object, hits[0].fact.origin) == ("N7", "X", Origin.EDIT)
        assert hits[0].fact.edit_id == edit.id
        index.search("warm", k=1)  # a second open is a load, not a rebuild, and still agrees
        again = FactIndex.open(store, index_dir, Embedder(cache_dir=cache_dir))
        assert again.fact_ids() == set(current)
    finally:
        store.close()
