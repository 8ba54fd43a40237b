"""The one place kgedit reads its settings: ``$KGEDIT_HOME/config.toml`` then ``KGEDIT_*`` variables.

Library code never reads the environment; it receives these values. Every default works offline.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from kg.errors import InputError

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
DEFAULT_LM = "SmolLM2-135M-Instruct"


@dataclass(frozen=True)
class Settings:
    home: Path
    store: str = ""
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    lm: str = DEFAULT_LM
    device: str = "auto"
    host: str = "127.0.0.1"
    port: int = 7860
    user: str = ""
    password: str = ""
    max_upload_mb: int = 50

    @property
    def store_url(self) -> str:
        return self.store or f"oxigraph:{self.home / 'store'}"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def deltas_dir(self) -> Path:
        return self.home / "deltas"

    @property
    def data_dir(self) -> Path:
        """The only folder the app reads uploads from and writes exports to."""
        return self.home / "data"


def load_settings(environ: dict[str, str] | None = None, **overrides: object) -> Settings:
    env = dict(os.environ if environ is None else environ)
    home = Path(env.get("KGEDIT_HOME", "~/.kgedit")).expanduser()
    settings = Settings(home=home)
    config_file = home / "config.toml"
    if config_file.exists():
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{config_file}: not valid TOML ({exc}); fix or delete the file") from exc
        settings = _merge(settings, data, str(config_file))
    from_env = {
        f.name: env[f"KGEDIT_{f.name.upper()}"] for f in fields(Settings) if f"KGEDIT_{f.name.upper()}" in env
    }
    from_env.pop("home", None)
    settings = _merge(settings, from_env, "environment")
    return _merge(settings, {k: v for k, v in overrides.items() if v is not None}, "options")


def _merge(settings: Settings, values: Mapping[str, object], where: str) -> Settings:
    known = {f.name: f for f in fields(Settings)}
    changes: dict[str, object] = {}
    for key, value in values.items():
        if key not in known or key == "home":
            raise InputError(f"{where}: unknown setting {key!r}; known settings: {', '.join(sorted(known))}")
        if known[key].type in ("int", int):
            try:
                value = int(value)  # type: ignore[call-overload]
            except (TypeError, ValueError) as exc:
                raise InputError(f"{where}: setting {key!r} must be a whole number, got {value!r}") from exc
        else:
            value = str(value)
        changes[key] = value
    return replace(settings, **changes)  # type: ignore[arg-type]
