"""A seeded fuzz run of hostile inputs across the CLI commands and the API endpoints.

Every input must end in a result or one clear refusal: no traceback (an exception escaping the
CLI's ``main``, or a handler failure the UI logs with a traceback), and no store change that the
reply does not report (a refused input changes nothing; an accepted write says what it wrote).
"""

from __future__ import annotations

import logging
import os
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client

from kg.store import FactStore
from tests.app.conftest import RunningApp, start_app
from tests.robustness.cli_runner import kgedit
from tests.robustness.test_hostile_input import INJECTIONS
from tests.support import DEV_DIR

CLI_INPUTS = int(os.environ.get("KGEDIT_FUZZ_CLI", "1400"))
API_INPUTS = int(os.environ.get("KGEDIT_FUZZ_API", "600"))
MARKUP = ["[/green]", "[/]", "[link=http://x.example]y[/link]", ":smile:", "[bold]", "<script>alert(1)</script>",
          "<img src=x onerror=alert(1)>", "**bold** _it_ `code`", "| a | b |", "\x1b[2J", "\u202e", "\ud800",
          "Fr\udcffance"]  # fmt: skip
KNOWN = ["United States of America", "France", "capital", "official language", "P36", "P37", "E1", "E2",
         "Paris", "Klingon", "E:France", "E:United_States_of_America"]  # fmt: skip
STATUSES = ["active", "retracted", "superseded"]


def hostile(rng: random.Random) -> str:
    kind = rng.randrange(7)
    if kind == 0:
        return rng.choice(INJECTIONS)
    if kind == 1:
        return rng.choice(MARKUP)
    if kind == 2:
        return rng.choice(KNOWN)
    if kind == 3:
        return "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(1, 30)))
    if kind == 4:
        return rng.choice(KNOWN) + " " + rng.choice(MARKUP + INJECTIONS)
    if kind == 5:
        return rng.choice(["x", "Ünïcode ", "[/]"]) * rng.randrange(1, 6_000)
    return ""


def snapshot(store: FactStore) -> set[tuple[object, ...]]:
    return set(store.backend.quads())


def _cli_command(rng: random.Random, tmp: Path, n: int) -> list[str]:
    pick = rng.randrange(10)
    if pick == 0:
        return ["kg", "add", hostile(rng), rng.choice(KNOWN[2:6]), hostile(rng), "--note", hostile(rng)]
    if pick == 1:
        return ["kg", "add", rng.choice(KNOWN[:2]), hostile(rng), hostile(rng)]
    if pick == 2:
        return ["kg", "show", hostile(rng)]
    if pick == 3:
        return ["kg", "history", hostile(rng), hostile(rng)]
    if pick == 4:
        return ["kg", "retract", hostile(rng)]
    if pick == 5:
        return ["kg", "edits", "--status", rng.choice([*STATUSES, hostile(rng)])]
    if pick == 6:
        path = tmp / f"in-{n}{rng.choice(['.tsv', '.ttl', '.nt', '.nq', '.json', ''])}"
        body = "\t".join(hostile(rng) for _ in range(rng.choice([5, 6, 6, 3])))
        path.write_text(rng.choice([body, body + "\n" + body, "{" * 50, "[" + body]), encoding="utf-8", errors="replace")
        return ["kg", "import", str(path)]
    if pick == 7:
        return ["kg", "export", str(tmp / rng.choice(["out.tsv", "out.nq", "out.ttl", "nope/x.nt", "", "out.xyz"]))]
    if pick == 8:
        return ["link", hostile(rng) or "x", "--no-embeddings"]
    return ["kg", rng.choice(["stats", "conflicts", "relations"])]


@pytest.mark.slow
def test_cli_fuzz_no_tracebacks_no_unreported_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("KGEDIT_HOME", str(home))
    for name in ("relations.tsv", "background.tsv"):
        assert kgedit(capsys, "kg", "import", str(DEV_DIR / name)).code == 0
    rng = random.Random(16)
    outcomes: Counter[str] = Counter()
    for n in range(CLI_INPUTS):
        args = _cli_command(rng, tmp_path, n)
        store = FactStore.open(f"oxigraph:{home / 'store'}")
        before = snapshot(store)
        store.close()
        run = kgedit(capsys, *args)  # an exception other than exit 0 / 2 fails the test here
        store = FactStore.open(f"oxigraph:{home / 'store'}")
        changed = snapshot(store) != before
        store.close()
        assert run.code in (0, 2), (args, run.code, run.err)
        if run.code == 2:
            # kgedit's one line, or click's usage message for an argument that looks like an option
            assert run.err.startswith(("error: ", "Usage: ")) and not changed, (args, run.err)
            outcomes["refused"] += 1
        elif changed:
            reported = ("E" in run.out and ":" in run.out) or "retracted" in run.out or "imported" in run.out
            assert args[1] in ("add", "retract", "import") and reported, (args, run.out)
            outcomes["wrote"] += 1
        else:
            outcomes["answered"] += 1
    assert sum(outcomes.values()) == CLI_INPUTS
    logging.getLogger(__name__).warning("CLI fuzz: %s", dict(outcomes))


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    yield from start_app(tmp_path_factory.mktemp("fuzz-home"))


def _api_call(rng: random.Random) -> tuple[str, tuple[object, ...]]:
    pick = rng.randrange(8)
    if pick == 0:
        return "/ask", (hostile(rng), [], rng.choice(["graph", hostile(rng)]))  # auto may run the LM: seconds
    if pick == 1:
        return "/entity_facts", (hostile(rng),)
    if pick == 2:
        return "/preview", (rng.choice(["France", "Germany", hostile(rng)]), rng.choice(["capital", hostile(rng)]),
                            hostile(rng), hostile(rng))  # fmt: skip
    if pick == 3:
        return "/add", (rng.choice(["France", "Germany", hostile(rng)]), rng.choice(["capital", "currency", hostile(rng)]),
                        hostile(rng), hostile(rng), hostile(rng), hostile(rng))  # fmt: skip
    if pick == 4:
        return "/retract", (rng.choice(["E1", "E2", hostile(rng)]),)
    if pick == 5:
        return "/history", (hostile(rng), hostile(rng))
    if pick == 6:
        return "/edit_log", (rng.choice([*STATUSES, "all", hostile(rng)]),)
    return "/graph", (hostile(rng), rng.choice([1, 2, -1, 99]), rng.choice([10, 0, 10_000]))


@pytest.mark.slow
def test_api_fuzz_no_tracebacks_no_unreported_changes(fuzz_app: RunningApp, caplog: pytest.LogCaptureFixture) -> None:
    client = Client(fuzz_app.url, verbose=False)
    rng = random.Random(17)
    outcomes: Counter[str] = Counter()
    caplog.set_level(logging.WARNING, logger="app.ui")
    for _ in range(API_INPUTS):
        endpoint, args = _api_call(rng)
        before = snapshot(fuzz_app.store)
        caplog.clear()
        try:
            reply = client.predict(*args, api_name=endpoint)
        except Exception as exc:  # a refusal: gradio_client raises the handler's one sentence
            assert "Traceback" not in str(exc) and "/work/" not in str(exc), str(exc)
            assert snapshot(fuzz_app.store) == before, (endpoint, args)
            outcomes["refused"] += 1
        else:
            if snapshot(fuzz_app.store) != before:
                text = str(reply[0] if isinstance(reply, tuple | list) else reply)
                assert endpoint in ("/add", "/retract") and ("Committed" in text or "Retracted" in text), (endpoint, text)
                outcomes["wrote"] += 1
            else:
                outcomes["answered"] += 1
        crashes = [r for r in caplog.records if r.exc_info]
        assert not crashes, (endpoint, args, crashes[0].getMessage())
    assert sum(outcomes.values()) == API_INPUTS
    logging.getLogger(__name__).warning("API fuzz: %s", dict(outcomes))
