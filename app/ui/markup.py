"""User text made literal for the UI's Markdown outputs (chat transcript, Curate, previews).

Kept free of Gradio so that code shared with the command line can import it cheaply.
"""

from __future__ import annotations

import html
import re

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~=:])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def md_text(value: object) -> str:
    """User text (a label, note, answer, question) as literal text inside Markdown.

    Gradio's Markdown and Chatbot render HTML, links, images and LaTeX; a label such as
    ``<img src=x onerror=...>`` or ``![](http://tracker)`` must read as the characters it is made
    of. HTML is escaped to entities, Markdown punctuation is backslash-escaped, ``$`` (a LaTeX
    delimiter) becomes an entity, and line breaks and control characters become spaces, so the
    text cannot start a heading, list or table either.
    """
    text = _CONTROL.sub(" ", str(value)).replace("\r", " ").replace("\n", " ")
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)  # before the entities, whose & and # must stay bare
    return html.escape(text, quote=True).replace("$", "&#36;")
