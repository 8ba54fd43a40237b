"""The SPARQL endpoint backend: URL options, errors users see, and atomic large change sets."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from kg.backend import open_backend
from kg.errors import InputError, StoreError
from kg.sparql_backend import STAGING_PREFIX, SparqlStore, parse_url, redact
from tests.servers.virtuoso import VirtuosoServer, free_port

G1 = URIRef("http://kgedit.org/graph/base")
G2 = URIRef("http://kgedit.org/graph/current")
P = URIRef("http://kgedit.org/vocab#p")
XSD_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")
XSD_BOOLEAN = URIRef("http://www.w3.org/2001/XMLSchema#boolean")


def quads(graph: URIRef, count: int, tag: str) -> list[tuple[URIRef, URIRef, Literal, URIRef]]:
    return [(URIRef(f"http://kgedit.org/entity/{tag}{i}"), P, Literal(f"value {i}"), graph) for i in range(count)]


def test_url_with_credentials_update_path_and_digest_auth() -> None:
    endpoint = parse_url("sparql+https://ann:s%40cret@db.example:8443/sparql?update=/sparql-auth&auth=digest")
    assert endpoint.query_url == "https://db.example:8443/sparql"
    assert endpoint.update_url == "https://db.example:8443/sparql-auth"
    assert (endpoint.user, endpoint.password, endpoint.auth) == ("ann", "s@cret", "digest")
    assert "s@cret" not in endpoint.display
    assert redact("sparql+https://ann:s%40cret@db.example:8443/q?auth=digest") == (
        "sparql+https://ann@db.example:8443/q?auth=digest"
    )


def test_url_update_endpoint_may_be_absolute_and_defaults_to_query_endpoint() -> None:
    assert parse_url("sparql+http://h/q").update_url == "http://h/q"
    assert parse_url("sparql+http://h/q?update=http://other:9/u").update_url == "http://other:9/u"


@pytest.mark.parametrize(
    "url",
    ["sparql+ftp://h/q", "sparql+http:///q", "sparql+http://h/q?graph=x", "sparql+http://h/q?auth=ntlm"],
)
def test_bad_store_urls_are_refused_with_a_clear_error(url: str) -> None:
    with pytest.raises(InputError, match="store URL"):
        open_backend(url)


def test_unreachable_endpoint_gives_a_store_error() -> None:
    store = open_backend(f"sparql+http://127.0.0.1:{free_port()}/sparql?timeout=5")
    assert isinstance(store, SparqlStore)
    with pytest.raises(StoreError, match="cannot reach the SPARQL endpoint"):
        store.count(G1)


@pytest.mark.server
def test_wrong_password_gives_a_store_error(virtuoso_server: VirtuosoServer) -> None:
    store = open_backend(virtuoso_server.store_url.replace("dba:dba@", "dba:wrong@"))
    with pytest.raises(StoreError, match="check the user, password"):
        store.apply(add=quads(G1, 1, "x"))


@pytest.mark.server
def test_terms_round_trip_as_the_embedded_store_returns_them(virtuoso_store_url: str) -> None:
    store = open_backend(virtuoso_store_url)
    s = URIRef("http://kgedit.org/entity/terms")
    values = [
        Literal("plain"),
        Literal("tab\tnewline\ncontrol\x01 quote\" backslash\\ 漢字 😀"),
        Literal("chat", lang="fr"),
        Literal(42, datatype=XSD_INTEGER),
        Literal(True, datatype=XSD_BOOLEAN),
        Literal(False, datatype=XSD_BOOLEAN),
    ]
    store.apply(add=[(s, P, v, G1) for v in values])
    found = {o for _, _, o, _ in store.quads(s, P, None, G1)}
    assert found == set(values)
    store.apply(remove=[(s, P, v, G1) for v in values])
    assert store.count(G1) == 0


@pytest.mark.server
def test_large_mixed_change_set_lands_whole_and_leaves_no_staging(virtuoso_store_url: str) -> None:
    store = open_backend(virtuoso_store_url)
    old = quads(G1, 12_000, "old")
    store.apply(add=old)
    assert store.count(G1) == 12_000
    new = quads(G1, 15_000, "new") + quads(G2, 9_000, "cur")
    store.apply(remove=old[:10_000], add=new)
    assert store.count(G1) == 2_000 + 15_000
    assert store.count(G2) == 9_000
    left = store.select(
        f'SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{STAGING_PREFIX}")) }}'
    )
    assert int(left[0]["n"]) == 0


@pytest.mark.server
def test_additions_larger_than_one_request_land_whole(virtuoso_store_url: str) -> None:
    store = open_backend(virtuoso_store_url)
    wide = [(s, p, Literal(f"{o} {'漢字' * 40}"), g) for s, p, o, g in quads(G1, 60_000, "wide")]
    store.apply(add=wide)  # ~17 MB of UTF-8: more than Virtuoso takes in one request
    assert store.count(G1) == 60_000
    store.apply(remove=wide)
    assert store.count(G1) == 0


@pytest.mark.server
def test_large_change_set_that_fails_part_way_changes_nothing(virtuoso_store_url: str) -> None:
    store = open_backend(virtuoso_store_url)
    keep = quads(G1, 3_000, "keep")
    store.apply(add=keep)
    bad = (URIRef("http://kgedit.org/entity/bad"), P, Literal("not a number", datatype=XSD_INTEGER), G2)
    # Tens of thousands of good quads go to staging first; the server refuses the ill-typed last one.
    with pytest.raises(StoreError, match="HTTP"):
        store.apply(remove=keep, add=quads(G2, 40_000, "new") + [bad])
    assert store.count(G1) == 3_000
    assert store.count(G2) == 0


@pytest.mark.server
def test_answers_cut_by_the_server_row_cap_are_an_error_not_a_partial_answer(tmp_path: Path) -> None:
    server = VirtuosoServer(tmp_path / "capped", max_rows=50).start()
    try:
        store = open_backend(server.store_url)
        store.apply(add=quads(G1, 60, "x"))
        with pytest.raises(StoreError, match="ResultSetMaxRows"):
            list(store.quads(None, None, None, G1))
    finally:
        server.stop()
