"""The two graphs the add-text benchmark reads sentences against: the demo graph (countryinfo) and the
dev graph (the hand-written MQuAKE-format development set's world graph plus its background facts),
each in its own memory store, base facts only."""

from __future__ import annotations

from pathlib import Path

from kg.demo import demo_bundle
from kg.store import FactStore

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev"


def open_graphs() -> dict[str, FactStore]:
    from qa.generator import graph_store

    demo = FactStore.open("memory:")
    demo.import_bundle(demo_bundle())
    dev = graph_store([DEV / "mquake_dev.json"], [DEV / "background.tsv"])
    return {"demo": demo, "dev": dev}
