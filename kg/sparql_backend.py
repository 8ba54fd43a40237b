"""A remote SPARQL 1.1 endpoint as the quad store: Virtuoso, GraphDB, Fuseki, Neptune...

URL form::

    sparql+http://[user:password@]host[:port]/path[?update=PATH_OR_URL&auth=basic|digest&timeout=SECONDS]

``sparql+https://`` works the same way. Queries go to the path; updates go to ``update`` when it is
given (a path on the same server or an absolute URL), else to the same path. ``auth`` picks HTTP
basic (the default when a user is given) or digest authentication (Virtuoso's ``/sparql-auth``).

Atomicity. Servers commit per *operation*, not per request: Virtuoso commits each operation of a
``;``-separated request on its own (an error in the second leaves the first in place). So every
change set reaches the server as exactly one update operation:

* adds only / removes only: one ``INSERT DATA`` / ``DELETE DATA`` when it fits one request;
* a small mix (at most :data:`GROUND_LIMIT` quads): one ``DELETE {...} INSERT {...} WHERE {}``;
* anything larger: the quads are first copied, in as many requests as needed, into private staging
  graphs that nothing reads; then one ``DELETE ... INSERT ... WHERE`` operation moves them into place
  in one transaction, and the staging graphs are dropped. A failure before the move leaves the data
  untouched (only staging graphs, which are dropped or ignored); the move itself is all or nothing.

Limits that shape this (measured on Virtuoso 7.2): its SPARQL parser overflows on more than about
5,000 triples in one ``GRAPH`` block and refuses request texts over 10 MB; ground ``DELETE``/``INSERT``
templates stop compiling beyond a few hundred quads. Results truncated by a server row cap (Virtuoso's
``ResultSetMaxRows``) raise :class:`StoreError` instead of returning part of the answer. A pattern
without a graph covers kgedit's named graphs only, never the server's other graphs.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit, urlunsplit

import requests
from rdflib import XSD, Literal, URIRef
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from kg.backend import Node, Quad, register_backend
from kg.errors import InputError, StoreError
from kg.sparql import bind, term_n3
from kg.vocab import BASE_IRI

log = logging.getLogger(__name__)

GROUND_LIMIT = 256  # quads in one DELETE/INSERT template (Virtuoso: ~600 overflow its SQL compiler)
BLOCK_QUADS = 1000  # quads per GRAPH block (Virtuoso's parser overflows near 5,000)
REQUEST_BYTES = 4_000_000  # text per update request (Virtuoso refuses strings over 10 MB)
STAGING_PREFIX = "urn:kgedit:staging:"
GRAPH_PREFIX = BASE_IRI + "graph/"
_OPTIONS = {"update", "auth", "timeout"}


@dataclass(frozen=True)
class Endpoint:
    """Where and how to talk to the server, parsed from the store URL."""

    query_url: str
    update_url: str
    user: str | None
    password: str | None
    auth: str
    timeout: float

    @property
    def display(self) -> str:
        """The URL without credentials, for messages and logs."""
        return self.query_url


def parse_url(url: str) -> Endpoint:
    scheme, sep, rest = url.partition("+")
    if scheme != "sparql" or not sep or not rest.startswith(("http://", "https://")):
        raise InputError(f"store URL {url!r}: use sparql+http://host:port/path or sparql+https://...")
    parts = urlsplit(rest)
    if not parts.hostname:
        raise InputError(f"store URL {url!r} names no host")
    options = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise InputError(
            f"store URL option(s) {', '.join(unknown)} are not supported; known: {', '.join(sorted(_OPTIONS))}"
        )
    netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    if ":" in parts.hostname:
        netloc = f"[{parts.hostname}]" + (f":{parts.port}" if parts.port is not None else "")
    query_url = urlunsplit((parts.scheme, netloc, parts.path or "/", "", ""))
    update_url = urljoin(query_url, options["update"]) if options.get("update") else query_url
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    auth = options.get("auth", "basic")
    if auth not in ("basic", "digest"):
        raise InputError(f"store URL {url!r}: auth must be 'basic' or 'digest', not {auth!r}")
    try:
        timeout = float(options.get("timeout", "300"))
    except ValueError as exc:
        raise InputError(f"store URL {url!r}: timeout must be a number of seconds") from exc
    return Endpoint(query_url, update_url, user, password, auth, timeout)


def redact(url: str) -> str:
    """The store URL without its password."""
    scheme, _, rest = url.partition("+")
    parts = urlsplit(rest)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}@" if parts.username else ""
    return f"{scheme}+" + urlunsplit((parts.scheme, user + netloc, parts.path, parts.query, parts.fragment))


class SparqlStore:
    """A :class:`kg.backend.TripleStore` over SPARQL 1.1 Query and Update via HTTP."""

    def __init__(self, url: str, endpoint: Endpoint) -> None:
        self.url = redact(url)  # logged and stamped into the fact index: never the password
        self.endpoint = endpoint
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._closed = False

    # ----- HTTP -------------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        if self._closed:
            raise StoreError(f"the store at {self.endpoint.display} is closed")
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.auth = self._auth()
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def _auth(self) -> AuthBase | None:
        ep = self.endpoint
        if ep.user is None:
            return None
        if ep.auth == "digest":
            return HTTPDigestAuth(ep.user, ep.password or "")
        return HTTPBasicAuth(ep.user, ep.password or "")

    def _post(self, url: str, form: dict[str, str], accept: str) -> requests.Response:
        # A NUL character can only occur inside a literal here; sent raw, Virtuoso's lexer takes it
        # for the end of the text, so it goes as the SPARQL escape \u0000, which every server reads.
        data = {key: value.replace("\x00", "\\u0000").encode("utf-8") for key, value in form.items()}
        try:
            reply = self._session().post(
                url,
                data=data,
                headers={"Accept": accept},
                timeout=self.endpoint.timeout,
            )
        except requests.RequestException as exc:
            raise StoreError(
                f"cannot reach the SPARQL endpoint {url}: {exc.__class__.__name__}; is the server running?"
            ) from exc
        if reply.status_code in (401, 403):
            raise StoreError(
                f"the SPARQL endpoint {url} refused the request (HTTP {reply.status_code}): check the user, "
                "password and auth= of the store URL and that the user may run SPARQL updates"
            )
        if reply.status_code >= 400:
            detail = " ".join(reply.text.split())[:300]
            raise StoreError(f"the SPARQL endpoint {url} answered HTTP {reply.status_code}: {detail}")
        return reply

    def _update(self, operation: str) -> None:
        self._post(self.endpoint.update_url, {"update": operation}, "application/sparql-results+json, */*")

    # ----- reads ------------------------------------------------------------------------------

    def select(self, query: str, bindings: Mapping[str, Node] | None = None) -> list[dict[str, Node]]:
        text = bind(query, bindings)
        reply = self._post(self.endpoint.query_url, {"query": text}, "application/sparql-results+json")
        cap = reply.headers.get("X-SPARQL-MaxRows")
        if cap is not None:
            raise StoreError(
                f"the SPARQL endpoint {self.endpoint.display} cut the answer at {cap} rows; raise its row cap "
                "(Virtuoso: [SPARQL] ResultSetMaxRows in virtuoso.ini) above the size of the largest graph"
            )
        try:
            body = reply.json()
            rows = body["results"]["bindings"]
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"the SPARQL endpoint {self.endpoint.display} did not answer with SPARQL JSON results"
            ) from exc
        return [{name: _term(value) for name, value in row.items()} for row in rows]

    def quads(
        self,
        subject: URIRef | None = None,
        predicate: URIRef | None = None,
        obj: Node | None = None,
        graph: URIRef | None = None,
    ) -> Iterator[Quad]:
        given = {"s": subject, "p": predicate, "o": obj, "g": graph}
        # Bound terms are written by term_n3 (the serialiser bind() uses, so never raw text) into the
        # pattern itself rather than a VALUES block: Virtuoso cannot carry a literal of more than
        # about 4,000 characters through VALUES, and it plans constant patterns better.
        slot = {name: term_n3(value) if value is not None else f"?{name}" for name, value in given.items()}
        # A server holds more than kgedit's graphs (Virtuoso's system graphs, other applications' data,
        # our staging graphs): without a graph, the pattern covers kgedit's named graphs only.
        ours = "" if graph is not None else f' FILTER(STRSTARTS(STR(?g), "{GRAPH_PREFIX}"))'
        wanted = " ".join(f"?{name}" for name in "spog" if given[name] is None) or "(1 AS ?found)"
        pattern = f"GRAPH {slot['g']} {{ {slot['s']} {slot['p']} {slot['o']} }}"
        for row in self.select(f"SELECT {wanted} WHERE {{ {pattern}{ours} }}"):
            s, p, o, g = (given[name] if given[name] is not None else row[name] for name in "spog")
            if not isinstance(s, URIRef) or not isinstance(p, URIRef) or not isinstance(g, URIRef) or o is None:
                raise StoreError(f"unexpected literal in subject, predicate or graph position: {row}")
            yield (s, p, o, g)

    def count(self, graph: URIRef) -> int:
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", {"g": graph})
        return int(rows[0]["n"])

    # ----- writes -----------------------------------------------------------------------------

    def apply(self, remove: Iterable[Quad] = (), add: Iterable[Quad] = ()) -> None:
        removed = [_quad_n3(q) for q in remove]
        added = [_quad_n3(q) for q in add]
        if not removed and not added:
            return
        if sum(map(_size, removed)) + sum(map(_size, added)) <= REQUEST_BYTES:
            if not removed:
                self._update(f"INSERT DATA {{ {_blocks(added)} }}")
                return
            if not added:
                self._update(f"DELETE DATA {{ {_blocks(removed)} }}")
                return
            if len(removed) + len(added) <= GROUND_LIMIT:
                self._update(f"DELETE {{ {_blocks(removed)} }} INSERT {{ {_blocks(added)} }} WHERE {{ }}")
                return
        self._apply_staged(removed, added)

    def _apply_staged(self, removed: list[tuple[str, str]], added: list[tuple[str, str]]) -> None:
        """Copy the change set into staging graphs, then move it into place with one operation."""
        stage = f"{STAGING_PREFIX}{uuid.uuid4().hex}/"
        targets = sorted({g for g, _ in removed} | {g for g, _ in added})
        index = {g: i for i, g in enumerate(targets)}
        staged: list[tuple[str, str]] = [(f"<{stage}remove/{index[g]}>", t) for g, t in removed]
        staged += [(f"<{stage}add/{index[g]}>", t) for g, t in added]
        try:
            for chunk in _chunks(staged):
                self._update(f"INSERT DATA {{ {_blocks(chunk)} }}")
            pairs_rm = " ".join(f"(<{stage}remove/{index[g]}> {g})" for g in targets)
            pairs_add = " ".join(f"(<{stage}add/{index[g]}> {g})" for g in targets)
            self._update(
                "DELETE { GRAPH ?g { ?s ?p ?o } } INSERT { GRAPH ?h { ?a ?b ?c } } WHERE { "
                f"{{ VALUES (?rm ?g) {{ {pairs_rm} }} GRAPH ?rm {{ ?s ?p ?o }} }} UNION "
                f"{{ VALUES (?ad ?h) {{ {pairs_add} }} GRAPH ?ad {{ ?a ?b ?c }} }} }}"
            )
        finally:
            self._drop_staging(stage, len(targets))

    def _drop_staging(self, stage: str, count: int) -> None:
        for kind in ("remove", "add"):
            for i in range(count):
                try:
                    self._update(f"DROP SILENT GRAPH <{stage}{kind}/{i}>")
                except StoreError as exc:  # the data is already right; only a private graph is left over
                    log.warning("could not drop staging graph %s%s/%d: %s", stage, kind, i, exc)

    def flush(self) -> None:
        """Nothing to do: the server has committed every update it acknowledged."""

    def close(self) -> None:
        self._closed = True
        with self._sessions_lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()


def _quad_n3(quad: Quad) -> tuple[str, str]:
    s, p, o, g = quad
    return term_n3(g), f"{term_n3(s)} {term_n3(p)} {term_n3(o)} ."


def _size(quad: tuple[str, str]) -> int:
    """Bytes the quad takes in a request (limits are on UTF-8 bytes, not characters)."""
    return len(quad[0].encode("utf-8")) + len(quad[1].encode("utf-8")) + 16


def _blocks(quads: list[tuple[str, str]]) -> str:
    """``GRAPH <g> { ... }`` groups of at most :data:`BLOCK_QUADS` triples each."""
    by_graph: dict[str, list[str]] = {}
    for graph, triple in quads:
        by_graph.setdefault(graph, []).append(triple)
    parts = []
    for graph, triples in by_graph.items():
        for start in range(0, len(triples), BLOCK_QUADS):
            parts.append(f"GRAPH {graph} {{ {' '.join(triples[start:start + BLOCK_QUADS])} }}")
    return " ".join(parts)


def _chunks(quads: list[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    chunk: list[tuple[str, str]] = []
    size = 0
    for quad in quads:
        length = _size(quad)
        if chunk and size + length > REQUEST_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append(quad)
        size += length
    if chunk:
        yield chunk


_CANONICAL_BOOLEAN = {"1": "true", "0": "false"}


def _term(value: dict[str, Any]) -> Node:
    """An rdflib term from one SPARQL JSON binding, normalised the way the embedded store returns it."""
    kind = value.get("type")
    text = value.get("value", "")
    if kind == "uri":
        return URIRef(text)
    if kind in ("literal", "typed-literal"):
        lang = value.get("xml:lang")
        if lang:
            return Literal(text, lang=lang)
        datatype = value.get("datatype")
        if datatype is None or datatype == str(XSD.string):
            return Literal(text)
        if datatype == str(XSD.boolean):
            text = _CANONICAL_BOOLEAN.get(text, text)
        return Literal(text, datatype=URIRef(datatype))
    raise StoreError(f"unsupported RDF term from the SPARQL endpoint: {value!r} (kgedit stores no blank nodes)")


def _open(url: str) -> SparqlStore:
    return SparqlStore(url, parse_url(url))


register_backend("sparql+http", _open)
register_backend("sparql+https", _open)
