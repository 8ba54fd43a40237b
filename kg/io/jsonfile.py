"""Reading a user's JSON file: every way it can be wrong becomes one InputError naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kg.errors import InputError


def load_json(path: Path, what: str = "JSON") -> Any:
    """The parsed file; a byte-order mark is allowed, and nesting too deep to parse is refused
    (Python's parser recurses, so a hostile file would otherwise end in a RecursionError)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc}); save the file as UTF-8 {what}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid {what} ({exc})") from exc
    except RecursionError as exc:
        raise InputError(f"{path}: nested too deeply to read as {what}") from exc
