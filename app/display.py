"""Showing the store's text on a terminal: as plain text, visible, and short enough to read.

Labels, notes and questions are user data. Printed through rich's markup parser, a label like
``[/green]`` crashes the command and ``[link=...]`` hides a hyperlink; written raw, an ANSI escape
repaints the terminal and a bidi override reverses the line. So every CLI command prints through
:data:`console` (markup, emoji codes and highlighting off) and passes each data value through
:func:`plain`, which shows control characters as escapes and shortens long values with a note.
"""

from __future__ import annotations

import re
import sys

from rich.console import Console

# Long values are cut here; rich also takes seconds to lay out a 20 KB cell in a table.
MAX_SHOWN = 200

# Controls, zero-width and bidi marks, the BOM, and lone surrogates (undecodable input bytes).
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")

console = Console(markup=False, emoji=False, highlight=False, soft_wrap=True)
errors = Console(stderr=True, markup=False, emoji=False, highlight=False, soft_wrap=True)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with control, zero-width and bidi characters shown as escapes, nothing cut."""
    return _INVISIBLE.sub(_escape, text)


def plain(value: object, limit: int = MAX_SHOWN) -> str:
    """One data value for one line of a terminal: invisible characters escaped, long values shortened."""
    text = visible(str(value))
    if len(text) > limit:
        return f"{text[:limit]}… ({len(text) - limit} more characters)"
    return text


def lines(text: str) -> str:
    """A message of several lines: each line made visible as by :func:`visible`, the breaks kept."""
    return "\n".join(visible(line) for line in text.split("\n"))


def invalid_argument() -> str | None:
    """A description of the first command-line argument that is not valid UTF-8, if any.

    Python decodes such bytes to lone surrogates, which crash the first encode (a cache key, a
    store literal) deep inside a command; refusing them at the door names the argument instead.
    """
    for position, argument in enumerate(sys.argv[1:], start=1):
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            shown = argument.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
            return f"argument {position} ({plain(shown, 60)}) is not valid UTF-8; re-type it or fix its encoding"
    return None
