"""A checked query string as the text of a PostgreSQL tsquery (NEWSDESK_SEARCH_BACKEND=postgres).

The string is parsed by the same Whoosh parser as on the Whoosh backend, so that both backends
read `OR`, `NOT`, `-term`, parentheses, phrases, fields and `prefix*` alike; the tree becomes
`to_tsquery` syntax in which every word stays a quoted token. PostgreSQL analyses each token with
the configuration the query runs under (folding accents, dropping stop words, stemming); a token
of several words (a phrase, `d’artillerie`) becomes a chain of `<->`. Fields become weights:
the title is A, the body B and the source C; a bare term may match A or B.

What does not carry over: `term~` matches the term exactly (PostgreSQL has no fuzzy lexemes),
and a phrase's slop (`"a b"~3`) is dropped (its words must be adjacent).
"""

from __future__ import annotations

import re

from whoosh import qparser, query
from whoosh.analysis import RegexTokenizer
from whoosh.fields import TEXT, Schema

from app.search.query import CheckedQuery, QueryError, with_newsdesk_syntax
from app.search.schema import build_schema

_WEIGHTS = {"text": "AB", "title": "A", "body": "B", "source": "C"}
_HAS_WORD = re.compile(r"[^\W_]")


def _parser() -> qparser.QueryParser:
    # Words as typed, split on white space only: PostgreSQL does the analysis.
    raw = TEXT(analyzer=RegexTokenizer(r"\S+"), phrase=True)
    # The Whoosh schema's own field names too, so that `lang:fr` is refused as it is there.
    schema = Schema(**dict.fromkeys([*build_schema().names(), "text"], raw))
    return with_newsdesk_syntax(qparser.QueryParser("text", schema))


_PARSER = _parser()


def _token(text: str) -> str:
    """A tsquery token: quoted, so that operators typed inside it stay text."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _render(node: query.Query) -> str | None:
    """tsquery text for a node; None for a node that cannot match anything (no word in it)."""
    if isinstance(node, query.Phrase):
        words = " ".join(node.words)
        if not _HAS_WORD.search(words):
            return None
        return f"{_token(words)}:{_WEIGHTS[node.fieldname]}"
    if isinstance(node, query.Prefix):
        if not _HAS_WORD.search(node.text):
            return None
        return f"{_token(node.text)}:*{_WEIGHTS[node.fieldname]}"
    if isinstance(node, (query.Term, query.FuzzyTerm)):  # a fuzzy term is matched exactly
        if not _HAS_WORD.search(node.text):
            return None
        return f"{_token(node.text)}:{_WEIGHTS[node.fieldname]}"
    if isinstance(node, query.Not):
        inner = _render(node.query)
        return None if inner is None else f"!({inner})"
    if isinstance(node, query.AndNot):
        positive, negative = _render(node.a), _render(node.b)
        if positive is None or negative is None:
            return positive
        return f"({positive}) & !({negative})"
    if isinstance(node, query.AndMaybe):
        return _render(node.a)
    if isinstance(node, (query.And, query.Or)):
        parts = [p for p in (_render(child) for child in node.children()) if p is not None]
        if not parts:
            return None
        joiner = " & " if isinstance(node, query.And) else " | "
        return "(" + joiner.join(parts) + ")"
    if node is query.NullQuery:
        return None
    raise QueryError(f"the query could not be parsed ({type(node).__name__})")


def _position(text: str, needle: str) -> int | None:
    found = text.find(needle)
    return None if found < 0 else found


def compile_tsquery(checked: CheckedQuery) -> str | None:
    """The tsquery text of a checked query, or None when nothing in it can match."""
    try:
        parsed = _PARSER.parse(checked.text)
    except Exception as exc:  # the parser raises ValueError, AttributeError, RecursionError…
        raise QueryError(f"the query could not be parsed ({type(exc).__name__})") from None
    for leaf in parsed.leaves():
        error = getattr(leaf, "error", None)
        if error:
            raise QueryError(f"the query could not be parsed: {error}")
        if leaf.field() not in _WEIGHTS:
            raise QueryError(
                f"unknown field `{leaf.field()}:`; use title:, body: or source:",
                _position(checked.text, f"{leaf.field()}:"),
            )
    return _render(parsed)
