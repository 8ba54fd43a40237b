"""The real app served on a free local port, over an in-memory store holding the demo graph."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.config import Settings, load_settings
from app.ui import build_app, launch_options
from app.ui.services import Services
from kg.demo import load_demo
from kg.records import Entity
from kg.store import FactStore


@dataclass
class RunningApp:
    url: str
    services: Services

    @property
    def store(self) -> FactStore:
        return self.services.store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_settings(home: Path, **overrides: object) -> Settings:
    return load_settings({"KGEDIT_HOME": str(home)}, port=free_port(), **overrides)


def demo_services(home: Path, **overrides: object) -> Services:
    """The UI's services over an in-memory store holding the demo graph (no server)."""
    store = FactStore.open("memory:")
    load_demo(store)
    return Services(demo_settings(home, **overrides), store)


def start_app(
    home: Path, datasets: tuple[Path, ...] = (), entities: Sequence[Entity] = (), **overrides: object
) -> Iterator[RunningApp]:
    """Serve the app over the demo graph (plus ``entities``); ``datasets`` are copied into the data
    folder first."""
    services = demo_services(home, **overrides)
    settings, store = services.settings, services.store
    store.add_entities(list(entities))
    for dataset in datasets:
        target = settings.data_dir / "datasets" / dataset.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dataset, target)
    blocks = build_app(services)
    blocks.queue().launch(**launch_options(settings), prevent_thread_lock=True, quiet=True)
    try:
        yield RunningApp(f"http://{settings.host}:{settings.port}/", services)
    finally:
        blocks.close()
        store.close()


REPO = Path(__file__).resolve().parents[2]
DEV_DATA = REPO.parent / "shared" / "data" / "dev"


@pytest.fixture(scope="module")
def running_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """One server per test module; tests in a module share its store and see each other's edits."""
    yield from start_app(tmp_path_factory.mktemp("kgedit-home"))
