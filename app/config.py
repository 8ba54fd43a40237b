"""The one place kgedit reads its settings: ``$KGEDIT_HOME/config.toml`` then ``KGEDIT_*`` variables.

Library code never reads the environment; it receives these values. Every default works offline.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from editors.methods import DEFAULT_LM
from kg.errors import InputError
from retrieval.defaults import DEFAULT_EMBEDDING_MODEL

# The dev set shipped beside the repository (synthetic, MQuAKE format): what Evaluate offers a new user.
BUNDLED_DEV_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev"


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
    max_question_chars: int = 4000
    long_question_chars: int = 500
    answer_seconds: int = 60
    login_failures_per_minute: int = 5
    dev_data: str = ""  # folder of the bundled dev set; default BUNDLED_DEV_DATA

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

    @property
    def dev_data_dir(self) -> Path:
        return Path(self.dev_data).expanduser() if self.dev_data else BUNDLED_DEV_DATA

    @property
    def upload_temp_dir(self) -> Path:
        """Where Gradio writes uploads before a handler checks them: kgedit's own, emptied at start."""
        return self.data_dir / "upload-tmp"

    @property
    def login(self) -> tuple[str, str] | None:
        """The (user, password) pair the UI asks for, or None when no login is configured.

        Half a login (a password without a user or the reverse) is refused rather than read as
        "no login": a server that silently drops the password it was given is the worse surprise.
        """
        if bool(self.user) != bool(self.password):
            given, missing = (
                ("KGEDIT_PASSWORD", "KGEDIT_USER") if self.password else ("KGEDIT_USER", "KGEDIT_PASSWORD")
            )
            raise InputError(
                f"{given} is set but {missing} is not; set both to require a login, or neither to serve without one"
            )
        return (self.user, self.password) if self.user else None


def is_loopback(host: str) -> bool:
    """True when only this machine can reach ``host`` (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to any interface


def exposure_warning(settings: Settings, allow_remote: bool) -> str | None:
    """Refuse to serve other machines without a login unless asked to; the warning to print if asked.

    Raises :class:`InputError` for a half-configured login, and for a non-loopback host without a
    login when ``allow_remote`` is false; returns a warning when it is true.
    """
    login = settings.login
    if login is not None or is_loopback(settings.host):
        return None
    if not allow_remote:
        raise InputError(
            f"--host {settings.host} would let other machines use kgedit without a login; set KGEDIT_USER "
            "and KGEDIT_PASSWORD, or pass --allow-remote to serve it open anyway"
        )
    return f"warning: serving on {settings.host} without a login; anyone who can reach this port can edit the graph"


def load_settings(environ: dict[str, str] | None = None, **overrides: object) -> Settings:
    env = dict(os.environ if environ is None else environ)
    home = Path(env.get("KGEDIT_HOME", "~/.kgedit")).expanduser()
    if home.exists() and not home.is_dir():
        raise InputError(f"KGEDIT_HOME={home} is a file, not a folder; point KGEDIT_HOME at a folder")
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
