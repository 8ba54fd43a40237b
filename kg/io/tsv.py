"""Tab-separated formats: labelled triples and relation metadata.

Labelled triples have six columns: subject id, subject label, relation id, relation label, object id,
object label (the format of the dev set's ``background.tsv``). Relation metadata has five: id, label,
cloze ("The capital of {} is"), question ("What is the capital of {}?"), functional (yes/no).
"""

from __future__ import annotations

import re
from pathlib import Path

from kg.errors import InputError
from kg.records import Entity, Relation
from kg.store import ImportBundle

TRIPLE_COLUMNS = ("subject_id", "subject_label", "relation_id", "relation_label", "object_id", "object_label")


_UNESCAPE = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r", "\\#": "#"}
_ESCAPED = re.compile(r"\\[\\tnr#]")


def escape_cell(cell: str, first: bool = False) -> str:
    """A cell as one line of TSV: backslash, tab, newline and carriage return as backslash escapes,
    and a leading ``#`` in a line's first cell escaped so that it is not read as a comment."""
    out = cell.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return "\\" + out if first and out.startswith("#") else out


def unescape_cell(cell: str) -> str:
    return _ESCAPED.sub(lambda m: _UNESCAPE[m.group()], cell)


def _rows(path: Path, width: int, what: str) -> tuple[list[tuple[int, list[str]]], int]:
    """The data rows of a TSV file with their line numbers, and how many comment lines it had.

    Lines end at a newline only (a label may hold any other separator), a byte-order mark is
    dropped, and cells are taken verbatim so that what kgedit exports imports back unchanged.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc}); save the file as UTF-8") from exc
    rows = []
    comments = 0
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        if line.startswith("#"):
            comments += 1
            continue
        cells = [unescape_cell(cell) for cell in line.split("\t")]
        if number == 1 and cells[0].strip().lower() in ("subject_id", "id", "relation_id"):
            continue  # a header row
        if len(cells) != width:
            raise InputError(
                f"{path}, line {number}: expected {width} tab-separated columns ({what}), found {len(cells)}"
            )
        empty = [i + 1 for i, cell in enumerate(cells) if not cell.strip()]
        if empty:
            raise InputError(f"{path}, line {number}: column {empty[0]} is empty")
        rows.append((number, cells))
    return rows, comments


def _skipped(comments: int) -> dict[str, int]:
    return {"comment lines (starting with '#')": comments} if comments else {}


def read_triples_tsv(path: Path, source: str = "") -> ImportBundle:
    entities: dict[str, Entity] = {}
    facts = []
    relation_labels: dict[str, str] = {}
    rows, comments = _rows(path, 6, ", ".join(TRIPLE_COLUMNS))
    for number, (s, s_label, r, r_label, o, o_label) in rows:
        for ident, label in ((s, s_label), (o, o_label)):
            known = entities.get(ident)
            if known is not None and known.label != label:
                raise InputError(
                    f"{path}, line {number}: entity {ident} is labelled {label!r} here but {known.label!r} earlier"
                )
            entities[ident] = Entity(ident, label)
        facts.append((s, r, o))
        relation_labels.setdefault(r, r_label)  # for relations the store must infer (no metadata yet)
    return ImportBundle(
        entities=list(entities.values()),
        facts=facts,
        source=source or f"import:{path.name}",
        relation_labels=relation_labels,
        skipped=_skipped(comments),
    )


def relation_from_cloze(
    ident: str, label: str, cloze: str, question: str, functional: bool, where: str = ""
) -> Relation:
    """A relation from the cloze form used by MQuAKE-style tables ("The capital of {} is")."""
    if cloze.count("{}") != 1 or question.count("{}") != 1:
        raise InputError(f"{where}relation {ident}: cloze and question must each contain one '{{}}'")
    statement = cloze.rstrip().rstrip(".").replace("{}", "{subject}") + " {object}."
    return Relation(ident, label, statement, question.replace("{}", "{subject}"), functional)


def read_relations_tsv(path: Path) -> ImportBundle:
    relations = []
    rows, comments = _rows(path, 5, "id, label, cloze, question, functional")
    for number, (ident, label, cloze, question, functional) in rows:
        flag = functional.strip().lower()
        if flag not in ("yes", "no", "true", "false", "1", "0"):
            raise InputError(f"{path}, line {number}: functional must be yes or no, found {functional!r}")
        relations.append(
            relation_from_cloze(
                ident, label, cloze, question, flag in ("yes", "true", "1"), f"{path}, line {number}: "
            )
        )
    return ImportBundle(relations=relations, source=f"import:{path.name}", skipped=_skipped(comments))


def _line(cells: list[str] | tuple[str, ...]) -> str:
    return "\t".join(escape_cell(cell, first=i == 0) for i, cell in enumerate(cells))


def write_triples_tsv(path: Path, rows: list[tuple[str, str, str, str, str, str]]) -> None:
    lines = ["\t".join(TRIPLE_COLUMNS)] + [_line(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")


def write_relations_tsv(path: Path, relations: list[Relation]) -> None:
    lines = ["id\tlabel\tcloze\tquestion\tfunctional"]
    for r in relations:
        question = r.question_template.replace("{subject}", "{}")
        lines.append(_line([r.id, r.label, r.cloze("{}"), question, "yes" if r.functional else "no"]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")
