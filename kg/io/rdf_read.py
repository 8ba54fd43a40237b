"""Reading Turtle and N-Triples into an import bundle, streamed by Oxigraph's parser.

Any graph imports, not only kgedit's own exports: entities are the IRIs that facts link, labelled by
``rdfs:label`` (else, for a foreign IRI the store does not know, by its local name); ``skos:altLabel``
gives aliases. Predicates that come without kgedit's relation metadata keep their ``rdfs:label`` in
the bundle so the store can infer the rest (:mod:`kg.relation_inference`).

IRIs from Wikidata (``wd:Q30``, ``wdt:P36``) map to ids "Q30" and "P36", kgedit's own IRIs to their
ids; other IRIs keep the full IRI as their id. The whole file is parsed before anything is written,
so a syntax error anywhere leaves the store as it was. pyoxigraph's Rust parser reads a million
triples in seconds where rdflib's takes minutes and gigabytes.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyoxigraph as ox
from rdflib import RDF, RDFS, SKOS
from tqdm import tqdm

from kg.errors import InputError
from kg.records import Entity, Relation
from kg.relation_inference import label_from_name, local_name
from kg.store import FactStore, ImportBundle
from kg.vocab import ENTITY, KG, RELATION

log = logging.getLogger(__name__)

WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
WIKIDATA_DIRECT = "http://www.wikidata.org/prop/direct/"
_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES}
_TYPE, _LABEL, _ALT = str(RDF.type), str(RDFS.label), str(SKOS.altLabel)
_RELATION_CLASS, _WIKIDATA = str(KG.Relation), str(KG.wikidata)
_RELATION_FIELDS = {
    str(KG.statementTemplate): "statement",
    str(KG.questionTemplate): "question",
    str(KG.functional): "functional",
    str(KG.wikidata): "wikidata",
}


class _Ids:
    """IRI -> kgedit id, memoised: a million-triple file names each entity dozens of times."""

    def __init__(self, ours: str) -> None:
        self.ours = ours
        self.seen: dict[str, str] = {}

    def __call__(self, iri: str) -> str:
        found = self.seen.get(iri)
        if found is None:
            found = self.seen[iri] = _local_id(iri, self.ours)
        return found


def _local_id(iri: str, ours: str) -> str:
    if iri.startswith(ours):
        return unquote(iri[len(ours) :])
    for prefix in (WIKIDATA_ENTITY, WIKIDATA_DIRECT):
        if iri.startswith(prefix):
            return iri[len(prefix) :]
    return iri


class _Progress(io.RawIOBase):
    """A file whose reads move a progress bar (on stderr, only on a terminal) by the bytes read."""

    def __init__(self, handle: io.BufferedReader, bar: tqdm) -> None:
        self.handle, self.bar = handle, bar

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.handle.readinto(buffer)
        self.bar.update(count)
        return count


@contextmanager
def _triples(path: Path, fmt: str) -> Iterator[ox.QuadParser]:
    size = path.stat().st_size
    with (
        path.open("rb") as handle,
        tqdm(
            total=size, desc="reading", unit="B", unit_scale=True, disable=None if size > 1 << 20 else True
        ) as bar,
    ):
        reader = io.BufferedReader(_Progress(handle, bar), 1 << 20)
        yield ox.parse(reader, format=_FORMATS[fmt], base_iri=path.resolve().as_uri())


def read_rdf(path: Path, fmt: str, store: FactStore | None = None) -> ImportBundle:
    """Entities, relations and facts of one Turtle or N-Triples file; ``store`` tells known IRIs apart."""
    labels: dict[str, str] = {}
    aliases: dict[str, list[str]] = {}
    wikidata: dict[str, str] = {}
    relation_nodes: set[str] = set()
    relation_fields: dict[str, dict[str, str]] = {}
    links: list[tuple[str, str, str]] = []
    skipped = {"literal-valued triples that are not labels or aliases": 0, "triples with blank nodes": 0}
    try:
        with _triples(path, fmt) as triples:
            for triple in triples:
                s, p, o = triple.subject, triple.predicate.value, triple.object
                if not isinstance(s, ox.NamedNode) or isinstance(o, ox.BlankNode):
                    skipped["triples with blank nodes"] += 1
                    continue
                subject = s.value
                if isinstance(o, ox.NamedNode):
                    if p == _TYPE:
                        if o.value == _RELATION_CLASS:
                            relation_nodes.add(subject)
                    else:
                        links.append((subject, p, o.value))
                elif isinstance(o, ox.Literal):
                    if p == _LABEL:
                        if subject not in labels or not o.language or o.language == "en":
                            labels[subject] = o.value
                    elif p == _ALT:
                        aliases.setdefault(subject, []).append(o.value)
                    elif p == _WIKIDATA:
                        wikidata[subject] = o.value
                        relation_fields.setdefault(subject, {})["wikidata"] = o.value
                    elif p in _RELATION_FIELDS:
                        relation_fields.setdefault(subject, {})[_RELATION_FIELDS[p]] = o.value
                    else:
                        skipped["literal-valued triples that are not labels or aliases"] += 1
                else:
                    skipped["triples with blank nodes"] += 1
    except SyntaxError as exc:
        raise InputError(f"{path}: not valid {fmt}: {' '.join(str(exc).split())[:400]}") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    skipped = {reason: n for reason, n in skipped.items() if n}
    for reason, n in skipped.items():
        log.warning("%s: skipped %d %s", path, n, reason)
    entity_id, relation_id = _Ids(str(ENTITY)), _Ids(str(RELATION))
    relations = [
        _relation(path, node, relation_id(node), labels, relation_fields) for node in sorted(relation_nodes)
    ]
    facts = [(entity_id(s), relation_id(p), entity_id(o)) for s, p, o in links if s not in relation_nodes]
    relation_labels = {relation_id(p): labels[p] for p in {p for _, p, _ in links} if p in labels}
    nodes = {s for s, _, _ in links if s not in relation_nodes} | {o for _, _, o in links} | labels.keys()
    entities = []
    for node in sorted(nodes - relation_nodes - {p for _, p, _ in links}):
        ident = entity_id(node)
        label = labels.get(node)
        if label is None:
            # a foreign IRI named by no label: its local name, unless the store already knows it;
            # kgedit's own ids must exist (the import says which one does not)
            if node.startswith(str(ENTITY)) or (store is not None and store.has_entity(ident)):
                continue
            label = label_from_name(local_name(node))
        entities.append(Entity(ident, label, tuple(sorted(aliases.get(node, []))), wikidata.get(node)))
    return ImportBundle(
        entities,
        relations,
        facts,
        source=f"import:{path.name}",
        skipped=skipped,
        relation_labels=relation_labels,
    )


def _relation(
    path: Path, node: str, ident: str, labels: dict[str, str], fields: dict[str, dict[str, str]]
) -> Relation:
    """A relation described with kgedit's vocabulary (a kgedit export), every field required."""
    given = fields.get(node, {})
    for name in ("statement", "question"):
        if name not in given:
            raise InputError(f"{path}: relation <{node}> has no {name}Template")
    if node not in labels:
        raise InputError(f"{path}: relation <{node}> has no label")
    return Relation(
        ident,
        labels[node],
        given["statement"],
        given["question"],
        _functional(path, node, given.get("functional", "true")),
        given.get("wikidata"),
    )


def _functional(path: Path, node: str, value: str) -> bool:
    """kg:functional as an xsd:boolean; anything else is refused rather than read as either value."""
    flag = value.strip().lower()
    if flag not in ("true", "false", "1", "0"):
        raise InputError(f"{path}: relation <{node}> has kg:functional {value!r}; use true or false")
    return flag in ("true", "1")
