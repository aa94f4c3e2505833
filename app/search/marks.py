"""How every snippet of every endpoint and engine is written: HTML-escaped text (`&`, `<`, `>`;
quotes as they are), matched words in `<mark>`, one mark over overlapping matches."""

from __future__ import annotations

import html
from collections.abc import Iterable

SNIPPET_CHARS = 240
MARK, UNMARK = "<mark>", "</mark>"


def escape(text: str) -> str:
    """Text as a snippet shows it."""
    return html.escape(text, quote=False)


def marked(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` escaped, with the character ranges `spans` in `<mark>`; overlapping or touching
    ranges (the bigrams of `김정은`) make one mark."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, at = [], 0
    for start, end in merged:
        out += [escape(text[at:start]), MARK, escape(text[start:end]), UNMARK]
        at = end
    out.append(escape(text[at:]))
    return "".join(out)


def opening(body: str) -> str:
    """The escaped start of a body, cut at a word: the snippet when nothing is marked."""
    start = body[:SNIPPET_CHARS]
    if len(body) > SNIPPET_CHARS:
        start = start.rsplit(" ", 1)[0] + " …"
    return escape(start)
