"""Write a dense-graph background file: a graph's extra facts plus same-kind distractors (qa.distractors).

    .venv/bin/python benchmarks/make_distractors.py --graph ../shared/data/dev/mquake_dev.json \\
        --facts ../shared/data/dev/background.tsv --factor 3 --out dense_background.tsv

The output is a labelled-triple TSV (the ``--background`` format of ``kgedit eval mquake``) holding
the given ``--facts`` rows and the distractors. Distractors never touch a (subject, relation) key the
MQuAKE graph or the facts already have, so every case's chain and gold answer stay as they were; the
file is read only for its graph, never for its questions.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kg.io.mquake import read_mquake  # noqa: E402
from kg.io.tsv import read_triples_tsv  # noqa: E402
from kg.relation_table import RelationTable  # noqa: E402
from kg.store import FactStore  # noqa: E402
from qa.distractors import make_distractors  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", type=Path, required=True, help="MQuAKE-format file whose graph to densify")
    parser.add_argument("--facts", type=Path, help="labelled-triple TSV of extra facts, copied into the output")
    parser.add_argument("--factor", type=float, default=3.0, help="facts in the dense graph / facts now")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    store = FactStore.open("memory:")
    store.import_bundle(read_mquake(args.graph))
    rows: list[str] = []
    if args.facts:
        bundle = read_triples_tsv(args.facts)
        table = RelationTable.load()
        bundle.relations = [table.relation(r) for r in sorted({r for _, r, _ in bundle.facts}) if not store.relation(r)]
        store.import_bundle(bundle)
        rows = [line for line in args.facts.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    # every key the graph has, base and edited, is left alone
    facts = [(f.subject, f.relation, f.object) for f in store.current_facts()]
    facts += [(e.subject, e.relation, e.object) for e in store.edits()] if hasattr(store, "edits") else []
    dense = make_distractors(sorted(set(facts)), args.factor, args.seed)
    label = {e.id: e.label for e in store.entities()} | {e.id: e.label for e in dense.entities}
    names = {r.id: r.label for r in store.relations()}
    for s, r, o in dense.facts:
        rows.append("\t".join((s, label[s], r, names.get(r, r), o, label[o])))
    args.out.write_text("\n".join(rows) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(rows)} rows ({len(dense.facts)} distractors, {len(dense.entities)} new entities); "
          f"graph {len(set(facts))} -> {len(set(facts)) + len(dense.facts)} facts")


if __name__ == "__main__":
    main()
