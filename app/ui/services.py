"""What the UI shares per process: one fact store, one answering pipeline, one write lock.

Gradio runs event handlers on worker threads. The operations themselves are
:class:`app.service.curation.KgService`'s (:attr:`Services.kg`),
:class:`app.service.answering.AnsweringService`'s (:attr:`Services.answering`) and
:class:`app.service.model.ModelService`'s (:attr:`Services.model`); reads go straight to the store;
writes (edits, retractions, imports) take its write lock (:attr:`Services.write_lock`) so that a preview and the commit that follows
it see the same store, and the Gradio queue serialises them through one concurrency group.
Paths that users name (uploads, exports, datasets) are confined to ``settings.data_dir``.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.config import Settings
from app.service.answering import AnsweringService
from app.service.curation import KgService
from app.service.model import ModelService
from app.ui.admission import QuestionLanes
from kg.errors import InputError, KgeditError
from kg.records import EditStatus, Entity, Relation
from kg.store import FactStore

if TYPE_CHECKING:
    from qa.systems import System

log = logging.getLogger(__name__)

UPLOAD_TYPES = (".ttl", ".nt", ".nq", ".tsv", ".json")
WRITE_GROUP = "store-write"
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:/[^\s/'\":,;()]+){2,}/?")


def user_message(exc: BaseException) -> str:
    """One sentence for the browser: the error's own words with any file path cut to its name."""
    if not isinstance(exc, KgeditError):
        return "Something went wrong inside kgedit; the server log has the details."
    text = _PATH.sub(lambda m: Path(m.group(0)).name or "(path)", str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass
class EntityCatalogue:
    """Labels and aliases of every entity, rebuilt when the store's revision changes."""

    revision: int = -1
    entities: dict[str, Entity] = field(default_factory=dict)
    choices: list[tuple[str, str]] = field(default_factory=list)


PICKER_CHOICES = 50  # entity choices a picker holds at a time on a large graph; the server filters
PICKER_ALL_UP_TO = 5_000  # smaller graphs send every choice and the browser filters them itself


class Services:
    """The per-process state behind every tab."""

    def __init__(self, settings: Settings, store: FactStore) -> None:
        self.settings = settings
        self.store = store
        self.kg = KgService(settings, store)
        self.write_lock = self.kg.write_lock
        self._catalogue = EntityCatalogue()
        self._catalogue_lock = threading.Lock()
        self.answering = AnsweringService(settings, store)
        self.model = ModelService(settings, store)
        self.questions = QuestionLanes(settings)

    # ----- entities and relations ------------------------------------------------------------

    def catalogue(self) -> EntityCatalogue:
        with self._catalogue_lock:
            revision = self.store.revision()
            if revision != self._catalogue.revision:
                entities = {e.id: e for e in self.store.entities()}
                choices = sorted(
                    ((entity_display(e), e.id) for e in entities.values()), key=lambda c: c[0].lower()
                )
                self._catalogue = EntityCatalogue(revision, entities, choices)
            return self._catalogue

    def entity_choices(self) -> list[tuple[str, str]]:
        """(display, id) pairs for an autocompleting dropdown: the display holds label and aliases."""
        return self.catalogue().choices

    def searched_on_server(self) -> bool:
        """Whether the graph is too large to send every entity choice to the browser."""
        return len(self.catalogue().choices) > PICKER_ALL_UP_TO

    def search_entities(self, query: str = "", limit: int = PICKER_CHOICES) -> list[tuple[str, str]]:
        """The first ``limit`` choices whose display holds every word of ``query``, names that start
        with it first: a picker asks the server as the user types instead of holding every label of
        a graph of 100,000 entities in the browser."""
        words = query.lower().split()
        choices = self.catalogue().choices
        if not words:
            return choices if len(choices) <= PICKER_ALL_UP_TO else choices[:limit]
        prefix = query.strip().lower()
        starting: list[tuple[str, str]] = []
        containing: list[tuple[str, str]] = []
        for display, ident in choices:
            lowered = display.lower()
            if all(w in lowered for w in words):
                (starting if lowered.startswith(prefix) else containing).append((display, ident))
                if len(starting) >= limit:
                    break
        return (starting + containing)[:limit]

    def labels(self) -> dict[str, str]:
        """A fresh id -> label map (callers may add to it)."""
        return {ident: e.label for ident, e in self.catalogue().entities.items()}

    def label(self, ident: str) -> str:
        found = self.catalogue().entities.get(ident) or self.store.entity(ident)
        return found.label if found else ident

    def resolve_entity(self, text: str | None, role: str = "entity") -> Entity:
        """An entity by id, exact label or alias, or the display text of a dropdown choice."""
        text = (text or "").strip()
        if not text:
            raise InputError(f"choose the {role} first")
        by_display = [i for d, i in self.entity_choices() if d == text]
        return self.kg.resolve_entity(by_display[0] if len(by_display) == 1 else text, role)

    def relation_label(self, ident: str) -> str:
        return self.kg.relation_label(ident)

    def active_edit_choices(self) -> list[tuple[str, str]]:
        """(display, id) of every active edit, newest first, for the pickers of retract and propagate."""
        return [
            (f"{e.id}: {self.label(e.subject)} · {self.relation_label(e.relation)} → {self.label(e.object)}", e.id)
            for e in reversed(self.kg.edit_log(EditStatus.ACTIVE.value))
        ]

    def relation_choices(self) -> list[tuple[str, str]]:
        return [(f"{r.label} ({r.id})", r.id) for r in self.store.relations()]

    def resolve_relation(self, text: str | None) -> Relation:
        if not (text or "").strip():
            raise InputError("choose a relation first")
        return self.kg.resolve_relation(text)

    # ----- files -----------------------------------------------------------------------------

    def data_path(self, *parts: str) -> Path:
        """A path inside the data folder; anything that would leave it is refused."""
        root = self.settings.data_dir.resolve()
        target = root.joinpath(*parts).resolve()
        if target != root and root not in target.parents:
            raise InputError("that file is outside the data folder; only files under it can be used")
        return target

    def accept_upload(self, uploaded: str | None, kind: str) -> Path:
        """Copy an upload (a temp file Gradio wrote) into ``data_dir/uploads`` after checking it.

        Gradio's temp copy is deleted either way, accepted or refused, so the upload folder holds
        only uploads still in flight.
        """
        if not uploaded:
            raise InputError(f"choose a {kind} file to upload first")
        source = Path(uploaded)
        try:
            return self._copy_upload(source)
        finally:
            if self.settings.upload_temp_dir.resolve() in source.resolve().parents:
                source.unlink(missing_ok=True)

    def _copy_upload(self, source: Path) -> Path:
        if not source.is_file():
            raise InputError(f"{source.name} is no longer on the server (each upload is used once); upload it again")
        suffix = source.suffix.lower()
        if suffix not in UPLOAD_TYPES:
            raise InputError(
                f"{source.name}: files of type {suffix or '(none)'} are not accepted; "
                f"use one of {', '.join(UPLOAD_TYPES)}"
            )
        limit = self.settings.max_upload_mb * 1024 * 1024
        if source.stat().st_size > limit:
            raise InputError(
                f"{source.name} is larger than the {self.settings.max_upload_mb} MB upload limit"
            )
        target_dir = self.data_path("uploads")
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / _safe_name(source.name)
        shutil.copyfile(source, target)
        return target

    # ----- answering -------------------------------------------------------------------------

    def system(self, name: str) -> System:
        """The answering system of this name, built once per process (see :class:`AnsweringService`)."""
        return self.answering.system(name)


def entity_display(entity: Entity) -> str:
    aliases = [a for a in entity.aliases if a != entity.label][:4]
    return f"{entity.label}" + (f" ({', '.join(aliases)})" if aliases else "") + f" · {entity.id}"


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^0-9A-Za-z._-]+", "_", name).strip("._") or "upload"
    return cleaned[:120]
