"""``kgedit kg``: curate the fact store from the shell."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from app.context import StoreOption, service_for
from app.display import console, plain
from app.service.curation import AddRequest, KgService
from app.service.names import CloseNameError
from kg.errors import InputError

if TYPE_CHECKING:
    from app.service.text_facts import Proposal

kg_app = typer.Typer(help="Add, retract, inspect, import and export facts.", no_args_is_help=True)


@kg_app.command()
def add(
    subject: Annotated[str, typer.Argument(help="Subject entity: id, label or alias (must exist).")],
    relation: Annotated[str, typer.Argument(help="Relation id (P36) or label (capital).")],
    obj: Annotated[
        str, typer.Argument(metavar="OBJECT", help="New object: id, label or alias; created if new.")
    ],
    replaces: Annotated[
        list[str] | None, typer.Option(help="Objects this edit replaces (multi-valued relations).")
    ] = None,
    author: Annotated[str, typer.Option(help="Who makes the edit.")] = "cli",
    note: Annotated[str, typer.Option(help="Why the edit is made.")] = "",
    strict: Annotated[bool, typer.Option(help="Refuse an edit that disagrees with an active edit.")] = False,
    new: Annotated[
        bool, typer.Option("--new", help="OBJECT is a new entity even though its name is close to an existing label.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Add or correct a fact: an edit record that supersedes the old object on functional relations."""
    request = AddRequest(subject, relation, obj, tuple(replaces or ()), author, note, "cli", strict, new)
    with service_for(store) as service:
        try:
            result = service.add(request)
        except CloseNameError as exc:
            raise InputError(f"{exc} (add --new to create it)") from exc
        for entity in [result.created] if result.created else []:
            console.print(f"created entity {plain(entity.id)} ({plain(entity.label)})")
        edit = result.edit
        console.print(f"{edit.id}: ({plain(edit.subject)}, {plain(edit.relation)}, {plain(edit.object)})", style="green")
        for fact in result.outcome.removed:
            console.print(f"  supersedes ({plain(fact.subject)}, {plain(fact.relation)}, {plain(fact.object)})")
        for loser in result.outcome.superseded_edits:
            console.print(f"  conflict resolved: newer edit {edit.id} wins over {loser}")


@kg_app.command()
def retract(
    edit_id: Annotated[str, typer.Argument(help="The edit to undo, e.g. E12.")],
    store: StoreOption = None,
) -> None:
    """Undo an edit: what it superseded comes back."""
    with service_for(store) as service:
        result = service.retract(edit_id)
        edit = result.edit
        current = ", ".join(plain(o) for o in result.current) or "nothing"
        console.print(f"retracted {edit.id}; ({plain(edit.subject)}, {plain(edit.relation)}) is now: {current}")


@kg_app.command()
def show(
    entity: Annotated[str, typer.Argument(help="Entity id, label or alias.")],
    store: StoreOption = None,
) -> None:
    """An entity's label, aliases and current facts, each with its origin; facts pointing to it too."""
    with service_for(store, read_only=True) as service:
        view = service.show(entity)
    found = view.entity
    console.print(
        f"{plain(found.label)} ({plain(found.id)})"
        + (f" aliases: {', '.join(plain(a) for a in found.aliases)}" if found.aliases else ""),
        style="bold",
    )
    table = Table("relation", "object", "origin", "edit")
    for row in view.outgoing:
        table.add_row(
            plain(row.relation_label), f"{plain(row.other_label)} ({plain(row.other)})", row.fact.origin.value,
            row.fact.edit_id or "",
        )  # fmt: skip
    console.print(table)
    if view.incoming:
        incoming = Table("subject", "relation", "origin", "edit", title=f"incoming: facts pointing to {plain(found.label)}")
        for row in view.incoming:
            incoming.add_row(
                f"{plain(row.other_label)} ({plain(row.other)})", plain(row.relation_label), row.fact.origin.value,
                row.fact.edit_id or "",
            )  # fmt: skip
        console.print(incoming)


@kg_app.command()
def history(
    subject: Annotated[str, typer.Argument(help="Subject entity id, label or alias.")],
    relation: Annotated[str, typer.Argument(help="Relation id or label.")],
    store: StoreOption = None,
) -> None:
    """Every value a fact has had: base objects and each edit with its status."""
    with service_for(store, read_only=True) as service:
        record = service.history(subject, relation).record
    console.print(f"base: {', '.join(plain(o) for o in record.base) or '(none)'}")
    table = Table("edit", "time", "author", "object", "replaces", "status", "note")
    for e in record.edits:
        status = e.status.value + (f" by {e.superseded_by}" if e.superseded_by else "")
        table.add_row(
            e.id,
            e.time.isoformat(timespec="seconds"),
            plain(e.author),
            plain(e.object),
            plain(", ".join(e.replaces)),
            plain(status),
            plain(e.note),
        )
    console.print(table)
    console.print(f"current: {', '.join(plain(o) for o in record.current) or '(none)'}")


@kg_app.command()
def edits(
    status: Annotated[
        str | None, typer.Option(help="Only edits with this status: active, retracted, superseded.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """The edit log, oldest first."""
    with service_for(store, read_only=True) as service:
        log = service.edit_log(status)
    table = Table("edit", "subject", "relation", "object", "status", "author", "source")
    for e in log:
        table.add_row(
            e.id, plain(e.subject), plain(e.relation), plain(e.object), e.status.value, plain(e.author), plain(e.source)
        )
    console.print(table)


@kg_app.command()
def conflicts(store: StoreOption = None) -> None:
    """Functional facts on which edits disagreed, and how the newer-edit-wins rule resolved them."""
    with service_for(store, read_only=True) as service:
        found = service.conflicts()
    if not found:
        console.print("no conflicts")
    for c in found:
        console.print(
            f"({plain(c.subject)}, {plain(c.relation)}): objects {', '.join(plain(o) for o in c.objects)}; "
            f"{plain(c.resolution, 400)}"
        )


@kg_app.command()
def stats(store: StoreOption = None) -> None:
    """Counts of entities, relations, facts and edits."""
    with service_for(store, read_only=True) as service:
        s = service.stats()
        console.print(f"store: {plain(service.settings.store_url, 400)}")
    console.print(f"entities: {s.entities}\nrelations: {s.relations}\nbase facts: {s.base_facts}")
    console.print(f"current facts: {s.current_facts}\nedits: {s.edits or 'none'}")


@kg_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="File to import.")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="turtle, nt, nquads, tsv, relations, relation-table, mquake, easyedit "
            "(default: from the extension and the first line).",
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option(help="Refuse edits that disagree with active edits, and relabelling known entities.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Import a file whole or not at all."""
    with service_for(store) as service, console.status(f"importing {plain(path.name)}"):
        report = service.import_file(path, fmt, strict)
    console.print(
        f"imported {report.entities} entities, {report.relations} relations, {report.facts} facts, "
        f"{report.edit_count} edits from {plain(path, 400)}"
    )
    for notice in report.notices():
        console.print(f"note: {plain(notice, 600)}", style="yellow")
    if report.inferred:
        console.print(
            f"inferred the metadata of {len(report.inferred)} relation(s) without any "
            "(list them with 'kgedit kg relations'; import a relations file to override)"
        )


@kg_app.command()
def export(
    path: Annotated[Path, typer.Argument(help="File to write.")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="turtle, nt, nquads (full backup), tsv, relations, edits (default: from the extension).",
        ),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Export the current graph, a full backup, or the edit log."""
    with service_for(store, read_only=True) as service:
        count = service.export_file(path, fmt)
    console.print(f"wrote {count} records to {plain(path, 400)}")


@kg_app.command()
def demo(store: StoreOption = None) -> None:
    """Load the demo graph of countries (capitals, currencies, languages, borders) if the store is empty."""
    with service_for(store) as service:
        added = service.load_demo()
    console.print(
        f"demo graph: {added} facts added" if added else "store is not empty; demo graph not loaded"
    )


@kg_app.command("relations")
def relations_(
    inferred: Annotated[bool, typer.Option("--inferred", help="Only relations whose metadata was inferred.")] = False,
    store: StoreOption = None,
) -> None:
    """Relations with their labels, question templates and functional flags; inferred ones are marked."""
    with service_for(store, read_only=True) as service:
        found = service.relations(inferred_only=inferred)
    table = Table("relation", "label", "functional", "question", "origin")
    for relation in found:
        table.add_row(
            plain(relation.id),
            plain(relation.label),
            "yes" if relation.functional else "no",
            plain(relation.question_template),
            "inferred" if relation.inferred else "given",
        )
    console.print(table)


@kg_app.command("add-text")
def add_text(
    text: Annotated[str | None, typer.Argument(help="One or more sentences stating facts.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read the text from this file ('-' for stdin).")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Commit every high-confidence candidate without asking.")
    ] = False,
    pick: Annotated[
        list[int] | None, typer.Option("--pick", help="Commit this candidate (by number), even at low confidence.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the candidates and write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per candidate per line.")] = False,
    author: Annotated[str, typer.Option(help="Who makes the edits.")] = "cli",
    note: Annotated[str, typer.Option(help="Why the edits are made.")] = "",
    lm: Annotated[
        bool,
        typer.Option("--lm", help="Let the language model guess the fact of a sentence nothing else reads (marked, low confidence)."),
    ] = False,
    store: StoreOption = None,
) -> None:
    """Turn plain-text facts into candidate triples, preview each, and commit the ones you accept."""
    import json
    import sys

    if file is not None and text is not None:
        raise InputError("give the text or --file, not both")
    if file is not None:
        try:
            text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {file}: {exc}") from exc
    if text is None:
        raise InputError("give the text to read, e.g. kgedit kg add-text \"The capital of Chile is Valparaíso\"")
    if as_json and not (dry_run or yes or pick):
        raise InputError("--json cannot ask which candidates to commit: add --dry-run, --yes or --pick N")
    with service_for(store, read_only=dry_run) as service:
        model = None
        if lm:
            from editors.lm import load_lm

            settings = service.settings
            model = load_lm(settings.lm, cache_dir=settings.cache_dir, device=settings.device)
        proposals, unread = service.propose_text(text, lm=model)
        wanted = set(pick or ())
        unknown = sorted(wanted - {p.number for p in proposals})
        if unknown:
            raise InputError(f"no candidate numbered {', '.join(map(str, unknown))}; there are {len(proposals)}")
        chosen = []
        for proposal in proposals:
            if as_json and dry_run:
                console.print(json.dumps(proposal.as_json(), ensure_ascii=False))
                continue
            if not as_json:
                _print_proposal(proposal, service)
            if dry_run:
                continue
            if proposal.number in wanted or (yes and proposal.high_confidence):
                chosen.append(proposal)
            elif yes or wanted:
                if not as_json:
                    console.print("  skipped: low confidence; pick it with --pick " + str(proposal.number))
            elif typer.confirm(f"  commit candidate {proposal.number}?", default=False):
                wanted.add(proposal.number)
                chosen.append(proposal)
        if not as_json:
            for clause in unread:
                console.print(f"nothing found in: {plain(clause)}", style="yellow")
        if dry_run:
            if not as_json:
                console.print("dry run: nothing written")
            return
        committed = service.commit_text(text, wanted, author, "cli", note, chosen=chosen)
    for proposal, outcome in committed:
        if as_json:
            console.print(json.dumps(proposal.as_json() | {"edit": outcome.edit.id}, ensure_ascii=False))
        else:
            edit = outcome.edit
            console.print(f"{edit.id}: ({plain(edit.subject)}, {plain(edit.relation)}, {plain(edit.object)})", style="green")
    written = {proposal.number for proposal, _ in committed}
    for proposal in chosen:
        if proposal.number not in written and not as_json:
            console.print(f"[{proposal.number}] is already the current fact; not written")
    if not committed and not as_json:
        console.print("nothing committed")


def _print_proposal(proposal: Proposal, service: KgService) -> None:
    c, preview = proposal.candidate, proposal.preview
    level = "high" if proposal.high_confidence else "LOW"
    if c.method != "relation-model":
        level += f", guessed by the {c.method}"
    new = " (new entity)" if c.new_object else ""
    console.print(
        f"[{proposal.number}] {plain(c.subject_label)} · {plain(c.relation_label)} → {plain(c.object_label)}{new}"
        f"   confidence {c.confidence:.2f} ({level})",
        style="bold",
    )
    console.print(f"  from: {plain(c.text, 300)}")
    console.print(f"  triple: ({plain(c.subject)}, {plain(c.relation)}, {plain(proposal.object_id)})")

    def name(ident: str) -> str:
        return plain(service.label(ident))

    if preview.unchanged:
        console.print("  already true in the current view")
    elif preview.supersedes:
        console.print(f"  supersedes: {', '.join(name(o) for o in preview.supersedes)}")
    else:
        console.print("  supersedes nothing; the object is added")
    for conflict in preview.conflicts:
        console.print(f"  conflict: {plain(conflict, 300)}")
    changed = len(preview.chains) + preview.more_chains
    if changed:
        console.print(f"  changes {changed} multi-hop answer(s), e.g.:")
        for chain in preview.chains[:3]:
            console.print(f"    {plain(chain.question, 200)}: {plain(chain.before, 200)}  ->  {plain(chain.after, 200)}")
