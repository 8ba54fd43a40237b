"""kill -9 in the middle of a burst of edits: every acknowledged edit is there after a restart.

A child process makes edits one after another and prints each edit id once ``edit()`` has returned.
The parent kills it (or, for Virtuoso, kills the database server itself) mid-burst, reopens the
store and checks that every acknowledged edit is in the log as asked, that the current view is the
one the conflict rule gives, and that the store takes new edits with fresh ids.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kg.records import EditRequest
from kg.store import FactStore
from tests.robustness.checks import assert_follows_rule
from tests.robustness.test_concurrency import small_world
from tests.servers.virtuoso import VirtuosoServer

ROOT = Path(__file__).resolve().parents[2]
ACKS_BEFORE_KILL = 30

CHILD = textwrap.dedent(
    """
    import random
    import sys
    from kg.records import EditRequest
    from kg.store import FactStore

    store = FactStore.open(sys.argv[1])
    rng = random.Random(7)
    print("ready", flush=True)
    while True:
        subject = rng.choice(["S0", "S1", "S2", "S3"])
        relation = rng.choice(["F", "M"])
        obj = rng.choice(["O0", "O1", "O2", "O3", "O4", "O5"])
        outcome = store.edit(EditRequest(subject, relation, obj, author="burst"))
        print("ack", outcome.edit.id, subject, relation, obj, flush=True)
    """
)


def start_burst(url: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    return child


def read_acks(child: subprocess.Popen[str], count: int) -> list[list[str]]:
    assert child.stdout is not None
    acks: list[list[str]] = []
    while len(acks) < count:
        line = child.stdout.readline()
        assert line, "the editing child died before the kill"
        acks.append(line.split()[1:])
    return acks


def drain_acks(child: subprocess.Popen[str]) -> list[list[str]]:
    """Acknowledgements the child printed before it died (still in the pipe)."""
    assert child.stdout is not None
    rest = child.stdout.read()
    child.wait(timeout=60)
    return [line.split()[1:] for line in rest.splitlines() if line.startswith("ack ")]


def assert_all_acknowledged_present(url: str, acks: list[list[str]]) -> None:
    store = FactStore.open(url)
    try:
        log = {edit.id: edit for edit in store.edits()}
        for ident, subject, relation, obj in acks:
            assert ident in log, f"acknowledged edit {ident} was lost"
            edit = log[ident]
            assert (edit.subject, edit.relation, edit.object) == (subject, relation, obj)
        assert_follows_rule(store)
        after = store.edit(EditRequest("S0", "F", "O5", author="after restart"))
        assert after.edit.id not in log
        assert {f.object for f in store.objects("S0", "F")} == {"O5"}
    finally:
        store.close()


def test_kill_during_edit_burst_keeps_every_acknowledged_edit_oxigraph(tmp_path: Path) -> None:
    url = f"oxigraph:{tmp_path / 'store'}"
    store = FactStore.open(url)
    store.import_bundle(small_world())
    store.close()
    child = start_burst(url)
    acks = read_acks(child, ACKS_BEFORE_KILL)
    child.send_signal(signal.SIGKILL)
    acks += drain_acks(child)
    assert child.returncode == -signal.SIGKILL
    assert_all_acknowledged_present(url, acks)


@pytest.mark.server
def test_kill_client_during_edit_burst_keeps_every_acknowledged_edit_virtuoso(virtuoso_store_url: str) -> None:
    store = FactStore.open(virtuoso_store_url)
    store.import_bundle(small_world())
    store.close()
    child = start_burst(virtuoso_store_url)
    acks = read_acks(child, ACKS_BEFORE_KILL)
    child.send_signal(signal.SIGKILL)
    acks += drain_acks(child)
    assert_all_acknowledged_present(virtuoso_store_url, acks)


@pytest.mark.server
def test_kill_virtuoso_server_during_edit_burst_keeps_every_acknowledged_edit(tmp_path: Path) -> None:
    server = VirtuosoServer(tmp_path / "virtuoso").start()
    try:
        store = FactStore.open(server.store_url)
        store.import_bundle(small_world())
        store.close()
        child = start_burst(server.store_url)
        acks = read_acks(child, ACKS_BEFORE_KILL)
        server.kill()
        acks += drain_acks(child)  # the child fails on its next request and exits
        assert child.returncode != 0
        server.start()  # same directory and ports: Virtuoso replays its transaction log
        assert_all_acknowledged_present(server.store_url, acks)
    finally:
        server.stop()
