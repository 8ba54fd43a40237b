"""Serving under hostile use: the login cannot be switched off by accident, guesses are throttled,
Gradio phones nobody, and uploads stay in kgedit's own folder with only the types kgedit reads.

Servers start on 127.0.0.1 (tests/app/conftest.py); "another client" is a second loopback address
(127.0.0.2), which Linux routes to the same server.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

import pytest
import requests

from app.config import exposure_warning, is_loopback, load_settings
from app.ui.http_guards import FailureWindow
from kg.errors import InputError
from tests.app.conftest import REPO, RunningApp, free_port, start_app


def kgedit(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=REPO,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "400", **env},  # rich wraps at the width
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    for word in words:
        assert word in message, message


# ----- the login cannot be half-configured, and remote serving needs one -------------------------


@pytest.mark.parametrize(
    ("given", "missing"), [("KGEDIT_PASSWORD", "KGEDIT_USER"), ("KGEDIT_USER", "KGEDIT_PASSWORD")]
)
def test_serve_refuses_half_a_login(tmp_path: Path, given: str, missing: str) -> None:
    result = kgedit(
        "serve",
        "--port",
        str(free_port()),
        "--store",
        "memory:",
        env={"KGEDIT_HOME": str(tmp_path), given: "x"},
    )
    assert_one_clear_line(result, given, missing)


def test_serve_refuses_a_remote_host_without_a_login(tmp_path: Path) -> None:
    result = kgedit(
        "serve", "--host", "0.0.0.0", "--port", str(free_port()), "--store", "memory:",
        env={"KGEDIT_HOME": str(tmp_path)},
    )  # fmt: skip
    assert_one_clear_line(result, "0.0.0.0", "--allow-remote")


def test_remote_host_is_served_with_a_warning_only_when_allowed_or_with_a_login(tmp_path: Path) -> None:
    remote = load_settings({"KGEDIT_HOME": str(tmp_path)}, host="0.0.0.0")
    with pytest.raises(InputError, match="--allow-remote"):
        exposure_warning(remote, allow_remote=False)
    warning = exposure_warning(remote, allow_remote=True)
    assert warning and "without a login" in warning
    with_login = load_settings({"KGEDIT_HOME": str(tmp_path), "KGEDIT_USER": "ada", "KGEDIT_PASSWORD": "pw"})
    assert exposure_warning(with_login, allow_remote=False) is None
    assert exposure_warning(load_settings({"KGEDIT_HOME": str(tmp_path)}), allow_remote=False) is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False),
     ("::", False), ("192.168.1.4", False), ("example.org", False)],
)  # fmt: skip
def test_only_loopback_hosts_count_as_local(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_launch_refuses_half_a_login_too(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="KGEDIT_USER"):
        next(start_app(tmp_path, password="lovelace"))


# ----- login attempts are throttled per client -----------------------------------------------


@pytest.fixture(scope="module")
def login_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    yield from start_app(tmp_path_factory.mktemp("login-home"), user="ada", password="lovelace")


def post_login(url: str, password: str, source: str = "127.0.0.1") -> http.client.HTTPResponse:
    """A login attempt over plain HTTP from a chosen loopback address."""
    parsed = urlparse(url)
    connection = http.client.HTTPConnection(
        parsed.hostname, parsed.port, timeout=10, source_address=(source, 0)
    )
    connection.request(
        "POST",
        "/login",
        body=urlencode({"username": "ada", "password": password}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_failed_logins_are_throttled_per_client_then_even_the_right_password_waits(
    login_app: RunningApp,
) -> None:
    limit = login_app.services.settings.login_failures_per_minute
    statuses = [post_login(login_app.url, f"guess-{i}", source="127.0.0.3").status for i in range(limit)]
    assert statuses == [400] * limit
    refused = post_login(login_app.url, "guess-again", source="127.0.0.3")
    assert refused.status == 429
    assert 0 < int(refused.getheader("Retry-After") or 0) <= 60
    assert post_login(login_app.url, "lovelace", source="127.0.0.3").status == 429
    assert post_login(login_app.url, "lovelace", source="127.0.0.2").status == 200  # another client


def test_two_hundred_guesses_are_mostly_refused_without_reaching_the_password_check(
    login_app: RunningApp,
) -> None:
    statuses = [post_login(login_app.url, f"g{i}", source="127.0.0.4").status for i in range(200)]
    limit = login_app.services.settings.login_failures_per_minute
    assert statuses.count(400) == limit and statuses.count(429) == 200 - limit


def test_a_failure_window_forgets_failures_after_a_minute_and_on_success() -> None:
    now = [1000.0]
    window = FailureWindow(limit=3, clock=lambda: now[0])
    for _ in range(3):
        window.failed("a")
    assert window.wait_seconds("a") == pytest.approx(60.0)
    assert window.wait_seconds("b") == 0.0
    now[0] += 30
    assert window.wait_seconds("a") == pytest.approx(30.0)
    now[0] += 30.5
    assert window.wait_seconds("a") == 0.0
    window.failed("c")
    window.succeeded("c")
    assert window.wait_seconds("c") == 0.0


# ----- nothing contacts an outside host at launch --------------------------------------------


def test_launch_contacts_no_outside_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside: list[str] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def record_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in (None, "localhost") and not str(host).startswith(("127.", "::1", "0.0.0.0")):
            outside.append(f"lookup {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    def record_connect(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(str(host)):
            outside.append(f"connect {host}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", record_lookup)
    monkeypatch.setattr(socket.socket, "connect", record_connect)
    monkeypatch.delenv("GRADIO_ANALYTICS_ENABLED", raising=False)
    for app in start_app(tmp_path):
        assert requests.get(app.url, timeout=10).status_code == 200
        time.sleep(2)  # Gradio's analytics and version check run on background threads
    assert outside == []


# ----- uploads stay in kgedit's folder, only readable types, and are cleaned ------------------


@pytest.fixture(scope="module")
def upload_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    home = tmp_path_factory.mktemp("upload-home")
    stale = load_settings({"KGEDIT_HOME": str(home)}).upload_temp_dir / "left-over" / "payload.exe"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"MZ")
    yield from start_app(home)


def upload(app: RunningApp, name: str, content: bytes) -> requests.Response:
    return requests.post(f"{app.url}gradio_api/upload", files={"files": (name, content)}, timeout=30)


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_uploads_land_in_kgedit_temp_folder_which_is_emptied_at_start(upload_app: RunningApp) -> None:
    folder = upload_app.services.settings.upload_temp_dir
    assert not (folder / "left-over").exists()
    response = upload(upload_app, "facts.tsv", b"E:A\tlabel\tA\n")
    assert response.status_code == 200, response.text
    [stored] = response.json()
    assert folder.resolve() in Path(stored).resolve().parents


@pytest.mark.parametrize("name", ["payload.exe", "page.html", "shell.sh", "no-suffix", "image.svg"])
def test_uploads_of_types_kgedit_does_not_read_are_refused_and_deleted(
    upload_app: RunningApp, name: str
) -> None:
    folder = upload_app.services.settings.upload_temp_dir
    before = set(files_under(folder))
    response = upload(upload_app, name, b"<script>alert(1)</script>")
    assert response.status_code == 415
    assert "not accepted" in response.text and "/" not in response.text.split("use one of")[0]
    assert set(files_under(folder)) == before


def test_an_accepted_upload_is_removed_from_the_temp_folder_once_used(upload_app: RunningApp) -> None:
    [stored] = upload(upload_app, "graph.tsv", b"E:A\tlabel\tA\n").json()
    copied = upload_app.services.accept_upload(stored, "graph")
    assert copied.is_file() and not Path(stored).exists()
    with pytest.raises(InputError, match="upload it again"):
        upload_app.services.accept_upload(stored, "graph")


def test_concurrent_wrong_type_uploads_leave_nothing_behind(upload_app: RunningApp) -> None:
    folder = upload_app.services.settings.upload_temp_dir
    before = set(files_under(folder))
    statuses: list[int] = []

    def refused_upload(i: int) -> None:
        statuses.append(upload(upload_app, f"x{i}.bin", b"0" * 1000).status_code)

    threads = [threading.Thread(target=refused_upload, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [415] * 20
    assert set(files_under(folder)) == before
