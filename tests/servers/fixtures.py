"""pytest fixtures for tests that need a real SPARQL server (marked ``server``).

One Virtuoso per test session (starting one takes a few seconds); each test gets it with kgedit's
graphs and any staging graphs dropped, so every test starts from an empty store.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from requests.auth import HTTPDigestAuth

from tests.servers.virtuoso import PASSWORD, VirtuosoServer

_OURS = 'STRSTARTS(STR(?g), "http://kgedit.org/") || STRSTARTS(STR(?g), "urn:kgedit:")'


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoServer]:
    server = VirtuosoServer(tmp_path_factory.mktemp("virtuoso"))
    try:
        server.start()
    except RuntimeError as exc:
        pytest.fail(f"cannot start Virtuoso for the server tests: {exc}")
    yield server
    server.stop()


def clear_kgedit_graphs(server: VirtuosoServer) -> None:
    """Drop every graph kgedit wrote (never Virtuoso's own system graphs)."""
    auth = HTTPDigestAuth("dba", PASSWORD)
    endpoint = server.endpoint + "-auth"
    reply = requests.post(
        endpoint,
        data={"query": f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER({_OURS}) }}"},
        headers={"Accept": "application/sparql-results+json"},
        auth=auth,
        timeout=60,
    )
    reply.raise_for_status()
    for row in reply.json()["results"]["bindings"]:
        graph = row["g"]["value"]
        requests.post(
            endpoint, data={"update": f"DROP SILENT GRAPH <{graph}>"}, auth=auth, timeout=300
        ).raise_for_status()


@pytest.fixture
def virtuoso_store_url(virtuoso_server: VirtuosoServer) -> str:
    """The store URL of the session's Virtuoso, emptied of kgedit's graphs."""
    clear_kgedit_graphs(virtuoso_server)
    return virtuoso_server.store_url
