"""MQuAKE JSON -> an import bundle: the world graph of a file, and its edits.

Facts are keyed by the ids the file gives (Wikidata ids in MQuAKE, "E:Japan" in the dev set), never
by label: two different entities are both labelled "Ford Mustang" in MQuAKE-CF-3k. Labels come from
the ``*_labeled`` triples. The base facts are every case's original chain plus the unedited hops of
its new chain (the world graph); the edits are the ``edit_triples``, lined up with
``requested_rewrite``. The loader accepts the variants of the family (CF-3k, CF-3k-v2, MQuAKE-T):
keys that only some variants have are optional, and a missing required key is an error naming the
case and the key.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.errors import InputError
from kg.io.jsonfile import load_json
from kg.records import EditRequest, Entity
from kg.relation_table import RelationTable
from kg.store import ImportBundle

log = logging.getLogger(__name__)

Triple = tuple[str, str, str]
_WIKIDATA_ITEM = re.compile(r"^Q\d+$")


@dataclass(frozen=True)
class Rewrite:
    """One requested edit: (subject, relation) from the true object to the new one."""

    subject: str
    subject_label: str
    relation: str
    true_id: str | None
    true_label: str
    new_id: str
    new_label: str
    prompt: str = ""
    question: str = ""

    @property
    def triple(self) -> Triple:
        return (self.subject, self.relation, self.new_id)


@dataclass(frozen=True)
class CaseGraph:
    """The graph part of one case: its original and edited chains, by id, with labels and aliases."""

    case_id: str
    triples: tuple[Triple, ...]
    new_triples: tuple[Triple, ...]
    rewrites: tuple[Rewrite, ...]
    labels: dict[str, str] = field(default_factory=dict)
    relation_labels: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def edit_triples(self) -> tuple[Triple, ...]:
        return tuple(r.triple for r in self.rewrites)

    def base_triples(self) -> list[Triple]:
        """The original chain and the hops of the new chain that no edit of this case made."""
        edited = set(self.edit_triples)
        return list(self.triples) + [t for t in self.new_triples if t not in edited]


def load_json_cases(path: Path) -> list[dict[str, Any]]:
    """The raw case objects of an MQuAKE-format file (a JSON list of objects)."""
    data = load_json(path)
    if not isinstance(data, list):
        raise InputError(f"{path}: an MQuAKE file is a JSON list of cases, found {type(data).__name__}")
    for i, raw in enumerate(data):
        if not isinstance(raw, dict):
            raise InputError(f"{path}: case #{i + 1} is a {type(raw).__name__}, not an object")
    return data


def case_name(raw: dict[str, Any], index: int) -> str:
    """The case id as text; files without ``case_id`` number their cases from 1."""
    value = raw.get("case_id")
    return str(index + 1) if value is None else str(value)


def require(raw: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``raw[key]`` of the given type, or an error that names the case and the key."""
    if key not in raw:
        raise InputError(f"{where}: missing key {key!r}")
    value = raw[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise InputError(f"{where}: key {key!r} must be a {names}, found {type(value).__name__}")
    return value


def string_list(raw: dict[str, Any], key: str, where: str, optional: bool = True) -> list[str]:
    if optional and raw.get(key) is None:
        return []
    values = require(raw, key, list, where)
    bad = [v for v in values if not isinstance(v, str)]
    if bad:
        raise InputError(f"{where}: key {key!r} must hold strings, found {bad[0]!r}")
    return list(values)


def _triples(raw: dict[str, Any], key: str, where: str) -> tuple[Triple, ...]:
    values = require(raw, key, list, where)
    out = []
    for i, item in enumerate(values):
        if not (isinstance(item, list) and len(item) == 3 and all(isinstance(x, str) and x for x in item)):
            raise InputError(f"{where}: {key}[{i}] must be a list of three non-empty strings, found {item!r}")
        out.append((item[0], item[1], item[2]))
    return tuple(out)


def _target(raw: dict[str, Any], key: str, where: str) -> tuple[str | None, str]:
    value = require(raw, key, (dict, str), where)
    if isinstance(value, str):
        return None, value
    label = require(value, "str", str, f"{where}.{key}")
    ident = value.get("id")
    return (str(ident) if ident else None), label


def parse_case_graph(raw: dict[str, Any], index: int, source: str = "") -> CaseGraph:
    """The graph of one raw case; ``source`` (a file name) prefixes error messages."""
    case_id = case_name(raw, index)
    where = f"{source + ': ' if source else ''}case {case_id}"
    orig = require(raw, "orig", dict, where)
    owhere = f"{where}, orig"
    triples = _triples(orig, "triples", owhere)
    new_triples = _triples(orig, "new_triples", owhere)
    if len(triples) != len(new_triples) or not triples:
        raise InputError(f"{owhere}: triples and new_triples must be non-empty chains of equal length")
    labels: dict[str, str] = {}
    relation_labels: dict[str, str] = {}
    for key, chain in (("triples_labeled", triples), ("new_triples_labeled", new_triples)):
        if orig.get(key) is None:
            continue
        labelled = _triples(orig, key, owhere)
        if len(labelled) != len(chain):
            raise InputError(f"{owhere}: {key} has {len(labelled)} triples but the chain has {len(chain)}")
        for (s, r, o), (s_label, r_label, o_label) in zip(chain, labelled, strict=True):
            labels.setdefault(s, s_label)
            labels.setdefault(o, o_label)
            relation_labels.setdefault(r, r_label)
    for key, chain in (("single_hops", triples), ("new_single_hops", new_triples)):
        hops = raw.get(key)
        if isinstance(hops, list) and len(hops) == len(chain):
            for hop, (_, _, o) in zip(hops, chain, strict=True):
                if isinstance(hop, dict) and isinstance(hop.get("answer"), str):
                    labels.setdefault(o, hop["answer"])
    rewrites = _rewrites(raw, orig, new_triples, labels, where)
    for rewrite in rewrites:
        labels.setdefault(rewrite.subject, rewrite.subject_label)
        if rewrite.true_id is not None:
            labels.setdefault(rewrite.true_id, rewrite.true_label)
        labels.setdefault(rewrite.new_id, rewrite.new_label)
    return CaseGraph(case_id, triples, new_triples, rewrites, labels, relation_labels, _aliases(raw, triples, new_triples))


def _rewrites(
    raw: dict[str, Any], orig: dict[str, Any], new_triples: tuple[Triple, ...], labels: dict[str, str], where: str
) -> tuple[Rewrite, ...]:
    requested = require(raw, "requested_rewrite", list, where)
    if not requested:
        raise InputError(f"{where}: requested_rewrite is empty; every case edits at least one fact")
    if orig.get("edit_triples") is not None:
        edits = _triples(orig, "edit_triples", f"{where}, orig")
        if len(edits) != len(requested):
            raise InputError(
                f"{where}: {len(requested)} requested_rewrite entries but {len(edits)} orig.edit_triples"
            )
    else:
        found = []
        for i, rw in enumerate(requested):
            found.append(_edit_from_chain(rw, i, new_triples, labels, where))
            labels.setdefault(found[-1][2], _target(rw, "target_new", where)[1])  # labels later rewrites' subjects
        edits = tuple(found)
    out = []
    for i, (rw, (s, r, o)) in enumerate(zip(requested, edits, strict=True)):
        rwhere = f"{where}, requested_rewrite[{i}]"
        if not isinstance(rw, dict):
            raise InputError(f"{rwhere}: must be an object")
        relation = require(rw, "relation_id", str, rwhere)
        if relation != r:
            raise InputError(f"{rwhere}: relation_id {relation!r} does not match edit triple {(s, r, o)}")
        true_id, true_label = _target(rw, "target_true", rwhere)
        new_id, new_label = _target(rw, "target_new", rwhere)
        if new_id is not None and new_id != o:
            raise InputError(f"{rwhere}: target_new id {new_id!r} does not match edit triple {(s, r, o)}")
        if true_id is None:
            true_id = _true_object(labels, true_label)
        out.append(
            Rewrite(
                subject=s,
                subject_label=require(rw, "subject", str, rwhere),
                relation=r,
                true_id=true_id,
                true_label=true_label,
                new_id=o,
                new_label=new_label,
                prompt=str(rw.get("prompt") or ""),
                question=str(rw.get("question") or ""),
            )
        )
    return tuple(out)


def _edit_from_chain(
    rw: Any, i: int, new_triples: tuple[Triple, ...], labels: dict[str, str], where: str
) -> Triple:
    """Variants without ``edit_triples``: the hop of the new chain the rewrite names."""
    rwhere = f"{where}, requested_rewrite[{i}]"
    if not isinstance(rw, dict):
        raise InputError(f"{rwhere}: must be an object")
    relation = require(rw, "relation_id", str, rwhere)
    subject = require(rw, "subject", str, rwhere)
    new_id, new_label = _target(rw, "target_new", rwhere)
    for s, r, o in new_triples:
        same_object = o == new_id if new_id is not None else labels.get(o, new_label) == new_label
        if r == relation and labels.get(s) == subject and same_object:
            return (s, r, o)
    raise InputError(f"{where}: no orig.edit_triples, and no hop of new_triples matches requested_rewrite[{i}]")


def _true_object(labels: dict[str, str], label: str) -> str | None:
    """The id of the entity of the case labelled ``label``, when exactly one is (else unknown)."""
    matches = [ident for ident, text in labels.items() if text == label]
    return matches[0] if len(matches) == 1 else None


def _aliases(raw: dict[str, Any], triples: tuple[Triple, ...], new_triples: tuple[Triple, ...]) -> dict[str, tuple[str, ...]]:
    """Aliases the file gives for its answer entities: the end of each chain and each hop's answer."""
    found: dict[str, list[str]] = {}

    def add(ident: str, names: Iterable[Any]) -> None:
        bucket = found.setdefault(ident, [])
        bucket += [n for n in names if isinstance(n, str) and n and n not in bucket]

    add(triples[-1][2], raw.get("answer_alias") or [])
    add(new_triples[-1][2], raw.get("new_answer_alias") or [])
    for key, chain in (("single_hops", triples), ("new_single_hops", new_triples)):
        hops = raw.get(key) or []
        if isinstance(hops, list) and len(hops) == len(chain):
            for hop, (_, _, o) in zip(hops, chain, strict=True):
                if isinstance(hop, dict):
                    add(o, hop.get("answer_alias") or [])
    return {k: tuple(v) for k, v in found.items() if v}


def graph_bundle(
    graphs: list[CaseGraph],
    relations: RelationTable | None = None,
    with_facts: bool = True,
    with_edits: bool = True,
    source: str = "",
) -> ImportBundle:
    """Entities, relations, base facts and edits of parsed cases, each given once."""
    table = relations or RelationTable.load()
    labels: dict[str, str] = {}
    aliases: dict[str, list[str]] = {}
    relation_labels: dict[str, str] = {}
    for graph in graphs:
        for ident, label in graph.labels.items():
            known = labels.setdefault(ident, label)
            if known != label and label not in aliases.setdefault(ident, []):
                aliases[ident].append(label)
        for ident, names in graph.aliases.items():
            bucket = aliases.setdefault(ident, [])
            bucket += [n for n in names if n not in bucket and n != labels.get(ident)]
        for ident, label in graph.relation_labels.items():
            relation_labels.setdefault(ident, label)
        for rewrite in graph.rewrites:
            relation_labels.setdefault(rewrite.relation, rewrite.relation)
    entities = [
        Entity(ident, label, tuple(aliases.get(ident, ())), ident if _WIKIDATA_ITEM.match(ident) else None)
        for ident, label in labels.items()
    ]
    bundle_relations = [table.relation(ident, label) for ident, label in sorted(relation_labels.items())]
    facts = list(dict.fromkeys(t for g in graphs for t in g.base_triples())) if with_facts else []
    edits = []
    if with_edits:
        seen: set[Triple] = set()
        for graph in graphs:
            for rewrite in graph.rewrites:
                if rewrite.triple not in seen:
                    seen.add(rewrite.triple)
                    edits.append(edit_request(rewrite, graph.case_id, source))
    return ImportBundle(entities=entities, relations=bundle_relations, facts=facts, edits=edits, source=source)


def edit_request(rewrite: Rewrite, case_id: str, source: str = "") -> EditRequest:
    """The store edit of a rewrite; it names the object it replaces, so multi-valued relations work too."""
    return EditRequest(
        subject=rewrite.subject,
        relation=rewrite.relation,
        object=rewrite.new_id,
        replaces=(rewrite.true_id,) if rewrite.true_id else (),
        author="mquake",
        note=f"case {case_id}",
        source=source,
    )


def read_graphs(path: Path) -> list[CaseGraph]:
    path = Path(path)
    return [parse_case_graph(raw, i, path.name) for i, raw in enumerate(load_json_cases(path))]


def read_mquake(path: Path, relations: RelationTable | None = None) -> ImportBundle:
    """The world graph of an MQuAKE-format file as base facts, plus all its edits (once each)."""
    path = Path(path)
    return graph_bundle(read_graphs(path), relations, source=f"mquake:{path.name}")
