"""Import and export of the store's formats, chosen by name or by file extension."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from kg.errors import InputError
from kg.files import replacing
from kg.store import FactStore, ImportBundle, ImportReport

IMPORT_FORMATS = ("turtle", "nt", "nquads", "tsv", "relations", "relation-table", "mquake", "easyedit")
EXPORT_FORMATS = ("turtle", "nt", "nquads", "tsv", "relations", "edits")
_BY_SUFFIX = {".ttl": "turtle", ".nt": "nt", ".nq": "nquads", ".tsv": "tsv", ".json": "json"}


def detect_format(path: Path, fmt: str | None) -> str:
    if fmt:
        return fmt
    guess = _BY_SUFFIX.get(path.suffix.lower())
    if guess is None:
        raise InputError(
            f"{path}: cannot tell the format from the extension; pass --format ({', '.join(IMPORT_FORMATS)})"
        )
    if guess == "tsv" and path.exists():
        cells = _first_row(path)
        if len(cells) == 5 and ("{}" in cells[2] or cells[2].strip().lower() == "cloze"):
            return "relations"
        if len(cells) == 6 and (cells[2].strip() == "functional" or "{subject}" in cells[3]):
            return "relation-table"  # the shipped kg/wikidata_relations.tsv and files like it
    if guess == "json":
        text = path.read_text(encoding="utf-8", errors="replace")[:20000]
        return "mquake" if '"requested_rewrite"' in text else "easyedit"
    return guess


def _first_row(path: Path) -> list[str]:
    """The cells of the first line that is not a comment (the shipped table opens with comments)."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.strip() and not line.startswith("#"):
                return line.rstrip("\r\n").split("\t")
    return []


def read_bundle(store: FactStore, path: Path, fmt: str | None = None) -> ImportBundle:
    from kg.io import easyedit, tsv

    check_readable(path)
    fmt = detect_format(path, fmt)
    if fmt in ("turtle", "nt"):
        from kg.io.rdf_read import read_rdf

        return read_rdf(path, fmt, store)
    if fmt == "tsv":
        return tsv.read_triples_tsv(path)
    if fmt == "relations":
        return tsv.read_relations_tsv(path)
    if fmt == "relation-table":
        from kg.relation_table import RelationTable

        table = RelationTable.load(path)
        relations = [r for r in (table.get(i) for i in table.ids()) if r is not None]
        return ImportBundle(relations=relations, source=f"import:{path.name}")
    if fmt == "easyedit":
        return easyedit.read_easyedit(path, store)
    if fmt == "mquake":
        from kg.io.mquake import read_mquake

        return read_mquake(path)
    raise InputError(f"unknown import format {fmt!r}; choose one of {', '.join(IMPORT_FORMATS)}")


def check_readable(path: Path) -> None:
    """Refuse what is not a regular file before anything reads it: a folder, a FIFO (which would
    block forever), a device."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path} is a folder; give the file to import")
    if not path.is_file():
        raise InputError(f"{path} is not a regular file (a pipe or a device); copy the data into a file first")


def import_file(store: FactStore, path: Path, fmt: str | None = None, strict: bool = False) -> ImportReport:
    """Import one file whole or not at all."""
    check_readable(path)
    if detect_format(path, fmt) == "nquads":
        from kg.io.rdf import restore_nquads

        restore_nquads(store, path)
        stats = store.stats()
        return ImportReport(
            stats.entities, stats.relations, stats.base_facts, (), restored_edits=sum(stats.edits.values())
        )
    with paused_gc():
        bundle = read_bundle(store, path, fmt)
        return store.import_bundle(bundle, strict=strict)


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while an import runs.

    A million-triple import allocates millions of small objects that all live until it ends; the
    collector would walk them again and again (a third of the import's time) and free nothing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def export_file(store: FactStore, path: Path, fmt: str | None = None) -> int:
    """Write the store in one format; returns how many records (triples, rows, edits) were written.

    The file is written beside the target and renamed over it only when complete, so a killed or
    failed export leaves any earlier file (yesterday's backup) as it was.
    """
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a file name to export to")
    if path.exists() and not path.is_file():
        raise InputError(f"{path} is not a regular file (a pipe or a device); export to a file")
    fmt = fmt or {".ttl": "turtle", ".nt": "nt", ".nq": "nquads", ".tsv": "tsv", ".json": "edits"}.get(
        path.suffix.lower(), ""
    )
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if not path.parent.is_dir():
        raise InputError(f"{path.parent}: no such folder; create it first or export elsewhere")
    try:
        with replacing(path) as temp:
            return _write(store, temp, fmt)
    except OSError as exc:
        raise InputError(
            f"cannot write {path}: {exc.strerror or exc}; nothing was written and any earlier file there is unchanged"
        ) from exc


def _write(store: FactStore, path: Path, fmt: str) -> int:
    from kg.io import rdf, tsv
    if fmt in ("turtle", "nt"):
        return rdf.write_graph(store, path, fmt)
    if fmt == "nquads":
        return rdf.write_nquads(store, path)
    if fmt == "tsv":
        labels = {e.id: e.label for e in store.entities()}
        relation_labels = {r.id: r.label for r in store.relations()}
        rows = [
            (
                f.subject,
                labels[f.subject],
                f.relation,
                relation_labels[f.relation],
                f.object,
                labels[f.object],
            )
            for f in sorted(store.current_facts(), key=lambda f: (f.subject, f.relation, f.object))
        ]
        tsv.write_triples_tsv(path, rows)
        return len(rows)
    if fmt == "relations":
        relations = store.relations()
        tsv.write_relations_tsv(path, relations)
        return len(relations)
    edits = store.edits()  # the "edits" format: the edit log as JSON
    records = [{**asdict(e), "time": e.time.isoformat(), "status": e.status.value} for e in edits]
    path.write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(records)
