"""Pieces every tab uses: the error guard, entity and relation pickers, and origin badges.

The guard is why no traceback or server path ever reaches the browser: a :class:`KgeditError`
becomes one sentence in a Gradio error toast; anything else is logged here and reported as a
generic sentence.
"""

from __future__ import annotations

import functools
import html
import inspect
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

from app.ui.markup import md_text
from app.ui.services import Services, user_message
from kg.store import check_text

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
__all__ = [
    "BADGE_CSS",
    "badge",
    "entity_picker",
    "guarded",
    "md_text",
    "refreshed_entities",
    "relation_picker",
]

BADGE_CSS = """
.kg-badge {display:inline-block; padding:0 .45em; border-radius:.6em; font-size:.8em; font-weight:600;}
.kg-badge-edit {background:#fde2e1; color:#a61b1b; border:1px solid #e5a3a0;}
.kg-badge-base {background:#e3eefc; color:#1b4f99; border:1px solid #a9c4ee;}
.kg-badge-model {background:#fdf3d7; color:#7a5a00; border:1px solid #e6cf8a;}
.kg-chain ol {margin:.2em 0 .2em 1.2em;}
.kg-chain .kg-hop-q {color:#555;}
.kg-answer {font-size:1.15em; font-weight:600;}
"""


def guarded(fn: F) -> F:
    """Run a handler; turn its errors into one user-facing sentence (works for generators too)."""

    def fail(exc: Exception) -> gr.Error:
        if not isinstance(exc, gr.Error):
            log.warning("%s failed: %s", fn.__name__, exc, exc_info=not _is_user_error(exc))
            # Gradio renders a toast's message as HTML: a label quoted in the sentence stays text.
            return gr.Error(html.escape(user_message(exc), quote=False), print_exception=False)
        return exc

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                _check_unicode(args, kwargs)
                yield from fn(*args, **kwargs)
            except Exception as exc:
                raise fail(exc) from None

        return gen_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            _check_unicode(args, kwargs)
            return fn(*args, **kwargs)
        except Exception as exc:
            raise fail(exc) from None

    return wrapper  # type: ignore[return-value]


def _check_unicode(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse text with lone surrogates before a handler sees it. A browser never sends them, but an
    API client's JSON can (``"\\udcff"``), and they fail deep inside (an IRI, a hash, the reply)."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, str):
            check_text(value, "the text")


def _is_user_error(exc: Exception) -> bool:
    from kg.errors import KgeditError

    return isinstance(exc, KgeditError)


PICKER_PAUSE_S = 0.3  # a picker searches once typing pauses this long (a common autocomplete delay)


class LatestKeys:
    """The newest key-up of each browser session, so a search a later key overtook is skipped.

    With Gradio's default "always_last" trigger the keys typed while a search is out resend the
    text of the first of them, and its dropdown draws a run of replies wrongly (names of the page
    before stay beside the new ones); so every key is sent and only the one typing paused after is
    answered."""

    def __init__(self, sessions: int = 1000) -> None:
        self._latest: OrderedDict[str, int] = OrderedDict()
        self._sessions = sessions
        self._lock = threading.Lock()

    def take(self, session: str) -> int:
        with self._lock:
            ticket = self._latest.pop(session, 0) + 1
            self._latest[session] = ticket
            while len(self._latest) > self._sessions:
                self._latest.popitem(last=False)
            return ticket

    def current(self, session: str, ticket: int) -> bool:
        with self._lock:
            return self._latest.get(session) == ticket


def entity_picker(services: Services, label: str, value: str | None = None, **kwargs: Any) -> gr.Dropdown:
    """A dropdown that searches the server's entities as you type (labels and aliases); ids, labels
    and aliases all resolve. It holds a page of choices, never the whole graph's labels."""
    picker = gr.Dropdown(
        choices=services.search_entities(),
        value=value,
        label=label,
        filterable=True,
        allow_custom_value=True,
        **kwargs,
    )
    latest = LatestKeys()

    def search(key: gr.KeyUpData, request: gr.Request) -> Any:
        session = request.session_hash or ""
        ticket = latest.take(session)
        time.sleep(PICKER_PAUSE_S)
        if not latest.current(session, ticket):
            return gr.skip()
        return gr.update(choices=services.search_entities(str(key.input_value or "")))

    if services.searched_on_server():
        picker.key_up(
            search,
            None,
            picker,
            api_visibility="private",
            show_progress="hidden",
            trigger_mode="multiple",
            concurrency_limit=None,  # the keys' searches wait side by side; only the last one answers
        )
    return picker


def relation_picker(services: Services, label: str = "Relation", **kwargs: Any) -> gr.Dropdown:
    return gr.Dropdown(
        choices=services.relation_choices(),
        value=None,
        label=label,
        filterable=True,
        allow_custom_value=True,
        **kwargs,
    )


def badge(origin: str, edit_id: str | None = None) -> str:
    text = f"edit {edit_id}" if origin == "edit" and edit_id else origin
    return f'<span class="kg-badge kg-badge-{html.escape(origin)}">{html.escape(text)}</span>'


def refreshed_entities(services: Services) -> dict[str, Any]:
    """An update that gives a picker the current first page of entities (after an import or a new entity)."""
    return gr.update(choices=services.search_entities())
