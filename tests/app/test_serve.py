"""``kgedit serve`` as a user starts it, and the optional login."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from gradio_client import Client

from tests.app.conftest import REPO, free_port, start_app


def test_kgedit_serve_loads_the_demo_graph_and_answers_http(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "KGEDIT_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--store", "memory:"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        else:
            pytest.fail("kgedit serve did not answer within 120 s")
        facts = Client(f"http://127.0.0.1:{port}/", verbose=False).predict("France", api_name="/entity_facts")
        assert "Paris" in {row[1] for row in facts[0]["data"]}
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "demo graph loaded" in output and f"http://127.0.0.1:{port}" in output


def test_login_is_required_when_user_and_password_are_set(tmp_path: Path) -> None:
    for app in start_app(tmp_path, user="ada", password="lovelace"):
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises its own error types
            Client(app.url, verbose=False)
        client = Client(app.url, auth=("ada", "lovelace"), verbose=False)
        facts = client.predict("France", api_name="/entity_facts")
        assert "Paris" in {row[1] for row in facts[0]["data"]}
