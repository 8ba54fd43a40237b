"""Curator text -> candidate triples: which entities a sentence names and which fact it states.

Each sentence (:mod:`retrieval.text_split`) is linked with the entity linker (labels, aliases, near
misses); each clause then offers *frames*: two of its names, or one name and a stretch of words that
names no entity yet (a proposed new object). A frame's residual (the clause with the names replaced by
``X`` and ``Y``) goes to the relation model, which says which relation it states and which way round;
the graph's role profiles say how well each entity fits that relation's slots. The best frame of a
clause is its candidate; its score, a product of probabilities, is the candidate's confidence.

Nothing here writes: the caller previews candidates and commits the ones the curator accepts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import InputError
from kg.normalize import ARTICLES, STOPWORDS, check_text, name_key, tokens
from kg.store import FactStore
from retrieval.embedder import TextEncoder
from retrieval.linker import ALIAS, FUZZY, LABEL, PARTIAL, EntityLinker, Mention
from retrieval.relation_model import RelationGuess, RelationModel
from retrieval.relation_patterns import FIRST, SECOND, normalise_residual
from retrieval.role_profiles import RoleProfiles
from retrieval.text_split import Piece, Sentence, clauses, sentences

log = logging.getLogger(__name__)

HIGH_CONFIDENCE = 0.5  # at or above: may be committed with --yes; below: only when the curator picks it
NEW_OBJECT_SCORE = 0.85  # a name the graph does not know is a weaker reading than one it knows
MIN_CONFIDENCE = 0.05  # below this a frame is no candidate at all
_FIT_FLOOR = 0.25  # an entity that fits a slot badly still gets this share of the score
_MIN_GAP_SCORE = 0.85  # a near-miss name found between the exact ones must be this close
_NEGATION = re.compile(
    r"(?:\bnot|\binstead of|\brather than|\bno longer|\breplacing|\breplaces|\bformerly|\bpreviously|\bin place of"
    r"|\bfrom)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_PRONOUN = re.compile(r"^\s*(its|their|his|her|it|they|he|she)\b", re.IGNORECASE)
_CAPITALISED = re.compile(
    r"[^\W\d_a-zà-ÿ][\w'’.-]*(?:\s+(?:(?:de|da|del|des|di|do|dos|du|la|le|of|the|van|von|der|den|y|bin|al|el|and)\s+)*"
    r"[^\W\d_a-zà-ÿ][\w'’.-]*)*"
)
_CUE = re.compile(
    r"(?:\b(?:is|are|was|were|be|been|become|became|to|in|into|by|as|with|now|for|at|on|of|called|named|uses|use)\b"
    r"|[:–—]|\s-\s)\s*",
    re.IGNORECASE,
)
_NOT_A_NAME = STOPWORDS | ARTICLES | {"now", "new", "fix", "breaking", "update", "correction", "news", "also"}
_LEADING_FUNCTION_WORDS = frozenset({"the", "a", "an", "its", "their", "it", "this", "that"})
_LEADING_LOWER_WORDS = frozenset({"now", "new", "fix"})  # cut only in lower case: "New Delhi" keeps its "New"


@dataclass(frozen=True)
class TextSpan:
    """Where a part of a candidate came from, as offsets into the text the curator gave."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class CandidateTriple:
    """One fact a sentence may state: who, which relation, what, how sure, and from which words."""

    text: str  # the sentence it came from, as written (kept in the edit's provenance)
    subject: str
    subject_label: str
    relation: str
    relation_label: str
    object: str | None  # None for a proposed new entity
    object_label: str
    new_object: bool
    confidence: float
    subject_span: TextSpan
    object_span: TextSpan
    clause: TextSpan
    form: str = "statement"  # statement | correction | news
    replaces: tuple[str, ...] = ()  # objects the sentence says are no longer true ("not Paris")
    method: str = "relation-model"  # or "language-model" for a guess the LM proposed

    @property
    def high_confidence(self) -> bool:
        return self.confidence >= HIGH_CONFIDENCE


@dataclass(frozen=True)
class Unread:
    """A clause no candidate came from, with its sentence (a language model may still try it)."""

    clause: TextSpan
    sentence: str
    form: str
    reason: str


@dataclass
class TextReading:
    """What a text gave: candidates in text order, and the clauses that gave none (with why)."""

    candidates: list[CandidateTriple] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)


@dataclass(frozen=True)
class _Group:
    """The readings of one linked span (homonyms share a span)."""

    start: int
    end: int
    mentions: tuple[Mention, ...]
    negated: bool = False


@dataclass(frozen=True)
class _Frame:
    clause: Piece
    sentence: Sentence
    first: _Group | None  # None: the subject is a pronoun or inherited, see ``fixed_subject``
    second: _Group | None  # None: a new object at ``new_span``
    new_span: TextSpan | None
    residual: str
    negated: tuple[_Group, ...] = ()
    pronoun: bool = False  # the subject is a pronoun ("its currency ..."), which may point past its sentence


class FactTextReader:
    """Reads curator text against one store; models load on first use and follow the store."""

    def __init__(
        self,
        store: FactStore,
        embedder: TextEncoder,
        cache_dir: Path | None = None,
        model: RelationModel | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.cache_dir = cache_dir
        self._model = model
        self._model_relations: tuple[str, ...] = ()
        self.linker = EntityLinker.from_store(store)
        self.profiles = RoleProfiles(store)

    @property
    def model(self) -> RelationModel:
        relations = self.store.relations()
        wanted = tuple(r.id for r in relations)
        if self._model is None or (self._model_relations and wanted != self._model_relations):
            self._model = RelationModel.cached(self.embedder, relations, self.cache_dir)
            self._model_relations = wanted
        return self._model

    def read(self, text: str) -> TextReading:
        """Candidate triples for every clause of ``text`` that states a fact about a known entity."""
        check_text(text, "text")
        reading = TextReading()
        mentions = self._mentions(text)
        frames: list[tuple[Piece, Sentence, list[_Frame]]] = []
        starts: set[int] = set()  # indexes into ``frames`` where a sentence starts
        for sentence in sentences(text, [(m.start, m.end) for m in mentions]):
            body = sentence.body
            groups = self._groups(text, body, [m for m in mentions if m.start >= body.start and m.end <= body.end])

            def cut(left: Piece, right: Piece, groups: list[_Group] = groups) -> bool:
                """Cut at "and" between two whole facts ("born in Lyon and died in Paris", "borders
                France and Spain"), not inside one ("born and raised in Dublin")."""
                left_names, right_names = _names_in(left, groups), _names_in(right, groups)
                return (
                    (left_names >= 2 and right_names >= 1) or right_names >= 2 or bool(_PRONOUN.match(right.text))
                )

            starts.add(len(frames))
            for clause in clauses(body, [(g.start, g.end) for g in groups], cut):
                inside = [g for g in groups if g.start >= clause.start and g.end <= clause.end]
                frames.append((clause, sentence, self._frames(text, sentence, clause, inside)))
        if not frames:
            raise InputError("the text holds no sentence: type a fact such as 'The capital of Chile is Valparaíso'")
        flat = [f for _, _, clause_frames in frames for f in clause_frames]
        guesses = dict(zip(map(id, flat), self.model.guesses([f.residual for f in flat]), strict=True))
        previous: CandidateTriple | None = None
        last: CandidateTriple | None = None  # across sentences, for "... the Indian rupee. It also ..."
        for n, (clause, sentence, clause_frames) in enumerate(frames):
            if n in starts:
                previous = None  # a bare list item or a clause without a subject refers back within its sentence
            scored = [
                c
                for f in clause_frames
                for c in self._score(f, guesses[id(f)], text, (previous or last) if f.pronoun else previous)
            ]
            scored.sort(key=lambda c: -c.confidence)
            if not scored or scored[0].confidence < MIN_CONFIDENCE:
                reading.unread.append(
                    Unread(
                        TextSpan(clause.start, clause.end, clause.text),
                        sentence.text,
                        sentence.form,
                        "no known entity with a fact the graph's relations can state",
                    )
                )
                continue
            reading.candidates.append(scored[0])
            previous = last = scored[0]
        return reading

    # ----- names -------------------------------------------------------------------------------

    def _mentions(self, text: str) -> list[Mention]:
        """Linked names of the whole text: exact names, near misses cut back to an exact name they
        start or end with ("Amazon's CEO" -> "Amazon"), then near misses in the gaps between them."""
        found = [self._exact_edge(text, m) for m in self.linker.link(text, limit=80)]
        found = [m for m in found if self._written_as_name(text, m)]
        covered = [(m.start, m.end) for m in found]
        for gap_start, gap_end in _gaps(text, covered):
            gap = text[gap_start:gap_end]
            if not any(len(w) > 3 and w.lower() not in STOPWORDS for w in re.findall(r"\w+", gap)):
                continue
            for m in self.linker.link(gap, limit=10):
                if m.score >= _MIN_GAP_SCORE and self._written_as_name(gap, m):
                    found.append(
                        Mention(m.entity_id, m.label, m.text, m.start + gap_start, m.end + gap_start, m.score, m.method)
                    )
        return found

    def _exact_edge(self, text: str, mention: Mention) -> Mention:
        if mention.method not in (FUZZY, PARTIAL):
            return mention
        entity = self.store.entity(mention.entity_id)
        if entity is None:
            return mention
        keys = {name_key(n): n for n in (entity.label, *entity.aliases)}
        words = tokens(mention.text)
        for k in range(len(words) - 1, 0, -1):
            for part in (words[:k], words[-k:]):
                if tuple(w.text for w in part) in keys:
                    start, end = mention.start + part[0].start, mention.start + part[-1].end
                    return Mention(entity.id, entity.label, text[start:end], start, end, 1.0, LABEL)
        return mention

    def _groups(self, text: str, body: Piece, mentions: Sequence[Mention]) -> list[_Group]:
        """The sentence's linked spans, homonyms together, each marked when the text negates it."""
        by_span: dict[tuple[int, int], list[Mention]] = {}
        for m in mentions:
            by_span.setdefault((m.start, m.end), []).append(m)
        groups = []
        for (start, end), found in sorted(by_span.items()):
            if any(s <= start and end <= e and (s, e) != (start, end) for s, e in by_span):
                continue  # inside a longer name
            before = text[body.start : start]
            negated = bool(_NEGATION.search(before)) and not (
                before.rstrip().lower().endswith("from") and " to " not in text[end : body.end]
            )
            groups.append(_Group(start, end, tuple(found), negated))
        return groups

    def _written_as_name(self, text: str, mention: Mention) -> bool:
        """Whether a linked span reads as a name here: not part of a hyphenated word ("sur" in
        "Esch-sur-Alzette"), a code alias ("SUR", "FR") only when written in capitals, a partial
        name only when capitalised."""
        if mention.start > 1 and text[mention.start - 1] == "-" and text[mention.start - 2].isalnum():
            return False
        if mention.end + 1 < len(text) and text[mention.end] == "-" and text[mention.end + 1].isalnum():
            return False
        if mention.method == PARTIAL and not mention.text[:1].isupper():
            return False
        if mention.method == ALIAS and not mention.text.isupper():
            entity = self.store.entity(mention.entity_id)
            names = (entity.label, *entity.aliases) if entity else ()
            folded = mention.text.casefold()
            codes = {a.casefold() for a in names if a.isupper() and len(a) <= 4}
            spelt = {a.casefold() for a in names if not a.isupper()}
            if folded in codes and folded not in spelt:
                return False
        return True

    def _new_spans(self, text: str, clause: Piece, groups: Sequence[_Group]) -> list[TextSpan]:
        """Stretches of the clause that may name a new object: after a colon, capitalised runs, the tail."""
        local = clause.text
        found: list[tuple[int, int]] = []
        if ":" in local:
            after = local.rindex(":") + 1
            found.append((after, len(local)))
        for match in _CAPITALISED.finditer(local):
            found.append((match.start(), match.end()))
        cues = list(_CUE.finditer(local))
        if cues and local == local.lower():  # no capitals to go by: before the first cue, after the last
            found.append((cues[-1].end(), len(local)))
            found.append((0, cues[0].start()))
        spans: dict[tuple[int, int], TextSpan] = {}
        for start, end in found:
            start, end = _trim(local, start, end)
            if end <= start:
                continue
            absolute = (clause.start + start, clause.start + end)
            if any(g.start < absolute[1] and absolute[0] < g.end for g in groups):
                continue
            words = re.findall(r"\w+", local[start:end])
            if not words or len(words) > 6 or all(w.lower() in _NOT_A_NAME for w in words):
                continue
            spans[absolute] = TextSpan(*absolute, text[absolute[0] : absolute[1]])
        return list(spans.values())

    # ----- frames and scores -------------------------------------------------------------------

    def _frames(self, text: str, sentence: Sentence, clause: Piece, groups: list[_Group]) -> list[_Frame]:
        live = [g for g in groups if not g.negated]
        negated = [g for g in groups if g.negated]
        frames: list[_Frame] = []
        lost = tuple(negated)
        for i, first in enumerate(live):
            for second in live[i + 1 :]:
                residual = _residual(text, clause, [(first.start, first.end, FIRST), (second.start, second.end, SECOND)], negated)
                frames.append(_Frame(clause, sentence, first, second, None, residual, lost))
        for span in self._new_spans(text, clause, groups):
            for group in live:
                slots = sorted([(group.start, group.end, "g"), (span.start, span.end, "n")])
                marks = [(s, e, FIRST if n == 0 else SECOND) for n, (s, e, _) in enumerate(slots)]
                residual = _residual(text, clause, marks, negated)
                frames.append(_Frame(clause, sentence, group, None, span, residual, lost))
        pronoun = _PRONOUN.match(clause.text)
        if pronoun:  # "... and its currency is the franc": the subject is the previous clause's
            start, end = clause.start + pronoun.start(1), clause.start + pronoun.end(1)
            word = pronoun.group(1).lower()
            slot = f"{FIRST}'s" if word in ("its", "their", "his", "her") else FIRST
            for group in live:
                residual = _residual(text, clause, [(start, end, slot), (group.start, group.end, SECOND)], negated)
                frames.append(_Frame(clause, sentence, None, group, None, residual, lost, pronoun=True))
            for span in self._new_spans(text, clause, groups):
                if span.start > end:
                    residual = _residual(text, clause, [(start, end, slot), (span.start, span.end, SECOND)], negated)
                    frames.append(_Frame(clause, sentence, None, None, span, residual, lost, pronoun=True))
        if len(live) == 1 and not frames:
            only = live[0]
            rest = clause.text[: only.start - clause.start] + " " + clause.text[only.end - clause.start :]
            if any(w.lower() not in _NOT_A_NAME for w in re.findall(r"\w+", rest)):
                # "... and died in Paris": the previous clause's subject, a fact of its own
                residual = _residual(text, clause, [(only.start, only.end, SECOND)], negated)
                frames.append(_Frame(clause, sentence, None, only, None, f"{FIRST} {residual}", lost))
            else:  # "... and Spain": the previous clause's fact, one more object
                frames.append(_Frame(clause, sentence, None, only, None, "", lost))
        return frames

    def _score(
        self, frame: _Frame, guesses: Sequence[RelationGuess], text: str, previous: CandidateTriple | None
    ) -> list[CandidateTriple]:
        readings: dict[tuple[str, bool | None], float] = {}
        if frame.residual:
            for g in guesses:
                if g.relation is not None:
                    # a symmetric relation reads in word order (or with the known name as subject)
                    key = (g.relation, None if self.profiles.symmetric(g.relation) else g.subject_first)
                    readings[key] = readings.get(key, 0.0) + g.probability
        elif previous is not None:  # a bare list item inherits the previous clause's relation
            readings = {(previous.relation, True): previous.confidence}
        found: list[CandidateTriple] = []
        for (relation, direction), probability in readings.items():
            if direction is not None:
                subject_first = direction
            elif frame.first is not None and frame.second is None and frame.new_span is not None:
                subject_first = frame.first.start < frame.new_span.start
            else:
                subject_first = True
            rel = self.store.relation(relation)
            if rel is None:
                continue
            if frame.first is None:  # pronoun, or a list item: the subject comes from the previous clause
                if previous is None or not subject_first:
                    continue
                subjects = [(previous.subject, previous.subject_label, previous.subject_span, 1.0)]
                objects_group = frame.second
            elif frame.second is None:  # one name and a new object: the name must be the subject
                assert frame.new_span is not None
                if subject_first != (frame.first.start < frame.new_span.start):
                    continue
                subjects = [(m.entity_id, m.label, _span(text, m), m.score) for m in frame.first.mentions]
                objects_group = None
            else:
                subject_group, objects_group = (
                    (frame.first, frame.second) if subject_first else (frame.second, frame.first)
                )
                subjects = [(m.entity_id, m.label, _span(text, m), m.score) for m in subject_group.mentions]
            for subject, subject_label, subject_span, subject_score in subjects:
                fit_s = _FIT_FLOOR + (1 - _FIT_FLOOR) * self.profiles.fit(subject, relation, True)
                if objects_group is None:
                    span = frame.new_span
                    if span is None:
                        continue
                    score = probability * subject_score * fit_s * NEW_OBJECT_SCORE
                    found.append(
                        self._candidate(frame, text, subject, subject_label, subject_span, rel.id, rel.label,
                                        None, _new_label(span.text), span, True, score)
                    )  # fmt: skip
                    continue
                for m in objects_group.mentions:
                    if m.entity_id == subject:
                        continue
                    fit_o = _FIT_FLOOR + (1 - _FIT_FLOOR) * self.profiles.fit(m.entity_id, relation, False)
                    score = probability * subject_score * m.score * fit_s * fit_o
                    found.append(
                        self._candidate(frame, text, subject, subject_label, subject_span, rel.id, rel.label,
                                        m.entity_id, m.label, _span(text, m), False, score)
                    )  # fmt: skip
        return found

    def _candidate(
        self, frame: _Frame, text: str, subject: str, subject_label: str, subject_span: TextSpan,
        relation: str, relation_label: str, obj: str | None, object_label: str, object_span: TextSpan,
        new: bool, score: float,
    ) -> CandidateTriple:  # fmt: skip
        negated = self._replaced(frame, subject, relation)
        return CandidateTriple(
            text=frame.sentence.text,
            subject=subject,
            subject_label=subject_label,
            relation=relation,
            relation_label=relation_label,
            object=obj,
            object_label=object_label,
            new_object=new,
            confidence=round(min(1.0, score), 4),
            subject_span=subject_span,
            object_span=object_span,
            clause=TextSpan(frame.clause.start, frame.clause.end, frame.clause.text),
            form=frame.sentence.form,
            replaces=negated,
        )

    def _replaced(self, frame: _Frame, subject: str, relation: str) -> tuple[str, ...]:
        """Current objects the clause names as no longer true ("..., not Paris")."""
        if not frame.negated:
            return ()
        current = {f.object for f in self.store.objects(subject, relation)}
        found = [m.entity_id for g in frame.negated for m in g.mentions if m.entity_id in current]
        return tuple(dict.fromkeys(found))


def _names_in(piece: Piece, groups: Sequence[_Group]) -> int:
    """Linked names in the piece, plus capitalised runs of words that are no linked name."""
    inside = [g for g in groups if piece.start <= g.start and g.end <= piece.end and not g.negated]
    count = len(inside)
    for match in _CAPITALISED.finditer(piece.text):
        start, end = piece.start + match.start(), piece.start + match.end()
        words = re.findall(r"\w+", match.group())
        if any(g.start < end and start < g.end for g in inside) or all(w.lower() in _NOT_A_NAME for w in words):
            continue
        count += 1
    return count


def _gaps(text: str, covered: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    cuts = sorted(covered)
    gaps, cursor = [], 0
    for start, end in cuts:
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < len(text):
        gaps.append((cursor, len(text)))
    return gaps


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Cut leading function words ("The", "its") and edge punctuation off a candidate name."""
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    while True:
        word = re.match(r"(\w+)\s+", text[start:end])
        if word and (
            word.group(1).lower() in _LEADING_FUNCTION_WORDS
            or (word.group(1) in _LEADING_LOWER_WORDS and word.group(1).islower())
        ):
            start += word.end()
            continue
        return start, end


def _residual(text: str, clause: Piece, marks: Sequence[tuple[int, int, str]], negated: Sequence[_Group]) -> str:
    """The clause with each marked span replaced by its slot word and each negated name cut out."""
    cuts = [(s, e, slot) for s, e, slot in marks]
    for group in negated:
        head = _NEGATION.search(text[clause.start : group.start])
        start = clause.start + head.start() if head else group.start
        cuts.append((start, group.end, ""))
    out, cursor = [], clause.start
    for start, end, slot in sorted(cuts):
        if start < cursor:
            continue
        out.append(text[cursor:start])
        out.append(slot)
        cursor = end
    out.append(text[cursor : clause.end])
    return normalise_residual("".join(out))


def _span(text: str, mention: Mention) -> TextSpan:
    return TextSpan(mention.start, mention.end, text[mention.start : mention.end])


def _new_label(words: str) -> str:
    """The label a new entity gets: as typed, or title-cased when typed all in lower case."""
    cleaned = " ".join(words.split())
    return cleaned.title() if cleaned == cleaned.lower() else cleaned
