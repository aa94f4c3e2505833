"""A checked query as PostgreSQL tsquery texts, one per text-search configuration
(NEWSDESK_SEARCH_BACKEND=postgres).

The query is parsed once (`app.search.query.parse`), as on the Whoosh backend, so that both
backends read `OR`, `NOT`, `-term`, parentheses, phrases, fields and `prefix*` alike. Each
configuration gets the query as its language reads it: that language's stop words are dropped
from plain words unless the query holds nothing else, and a phrase keeps them in place (the
configurations index every word, migration 0003). Every word stays a quoted token, which
PostgreSQL analyses with the configuration (folding accents, stemming); a phrase is one token of
several words, which becomes a chain of `<->`. A word of several parts (`Jong-un`,
`d’artillerie`) is the AND of its parts, without the stop words among them. A Latin word also
asks the Latin spellings of names (the vector's weight D: `golunov` finds « Голунов »), and a
capitalised Cyrillic or Greek word its own Latin spellings (`Голунов` finds « Golunov »).
Fields become weights:
the title is A, the body B and the source C; a bare term may match A or B.

What does not carry over: `term~` matches the term exactly (PostgreSQL has no fuzzy lexemes),
and a phrase's slop (`"a b"~3`) is dropped (its words must be adjacent).
"""

from __future__ import annotations

import re

from whoosh import query

from app.search.analysis import FOLD_SUFFIX, STEMMED_LANGUAGES, WordToken, word_tokens
from app.search.query import CheckedQuery, QueryError, drops_stop_words, parse

_WEIGHTS = {"text": "AB", "title": "A", "body": "B", "source": "C"}
_HAS_WORD = re.compile(r"[^\W_]")
_COMPOUND = re.compile(r"[^\W_][-'’‘‐‑][^\W_]")
_COMPOUND_JOINT = re.compile(r"(?<=[^\W_])[-'’‘‐‑](?=[^\W_])")
# The families of migration 0002's configurations: a stemmed language each, then `simple`.
FAMILIES = (*STEMMED_LANGUAGES, FOLD_SUFFIX)


def config_name(family: str) -> str:
    """The text-search configuration of a family (migration 0002)."""
    return "newsdesk_simple" if family == FOLD_SUFFIX else f"newsdesk_{family}"


def quoted(text: str) -> str:
    """A tsquery token: quoted, so that operators typed inside it stay text."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


class _Renderer:
    """The parsed tree as one family's tsquery text."""

    def __init__(self, family: str, *, drop_stops: bool) -> None:
        self.family = family
        self.drop_stops = drop_stops

    def term(self, node: query.Term, *, drop_stops: bool | None = None) -> str | None:
        weight = _WEIGHTS[node.fieldname]
        source = node.fieldname == "source"
        tokens = word_tokens(node.text, FOLD_SUFFIX if source else self.family, keep_cjk=True)
        drop = (self.drop_stops if drop_stops is None else drop_stops) and not source
        if not _COMPOUND.search(node.text):
            # One word: sent whole, so that PostgreSQL splits it as it split the articles
            # (`G20サミット`, `7,4`); its Latin spellings and keys beside it.
            if not tokens or (drop and all(t.stop for t in tokens)):
                return None
            return self.alternatives(node.text, tokens[0] if len(tokens) == 1 else None, weight)
        # Parts joined by hyphens or apostrophes (`Jong-un`, `d’artillerie`): the word whole,
        # as written, or its parts without the stop words, so that `Kim Jong Un` and
        # `Kim Jong-un` meet.
        parts = []
        for part in _COMPOUND_JOINT.split(node.text):
            found = word_tokens(part, FOLD_SUFFIX if source else self.family, keep_cjk=True)
            if found and not (drop and all(t.stop for t in found)):
                parts.append(self.alternatives(part, found[0] if len(found) == 1 else None, weight))
        whole = f"{quoted(node.text)}:{weight}"
        if not parts:
            return None if drop and all(t.stop for t in tokens) else whole
        joined = parts[0] if len(parts) == 1 else "(" + " & ".join(parts) + ")"
        return f"({whole} | {joined})"

    @staticmethod
    def alternatives(surface: str, token: WordToken | None, weight: str) -> str:
        words = [f"{quoted(surface)}:{weight}"]
        if token is not None:
            words += [f"{quoted(w)}:{weight}" for w in token.latin]
            # the Latin spellings of names are the vector's weight D (migration 0003)
            words += [f"{quoted(k)}:D" for k in token.keys]
        return words[0] if len(words) == 1 else "(" + " | ".join(words) + ")"

    def render(self, node: query.Query) -> str | None:
        """tsquery text for a node; None for a node that cannot match anything."""
        if isinstance(node, query.Phrase):
            words = " ".join(node.words)
            if not _HAS_WORD.search(words):
                return None
            return f"{quoted(words)}:{_WEIGHTS[node.fieldname]}"
        if isinstance(node, query.Prefix):
            if not _HAS_WORD.search(node.text):
                return None
            return f"{quoted(node.text)}:*{_WEIGHTS[node.fieldname]}"
        if isinstance(node, query.FuzzyTerm):  # matched exactly, even a stop word
            return self.term(query.Term(node.fieldname, node.text), drop_stops=False)
        if isinstance(node, query.Term):
            return self.term(node)
        if isinstance(node, query.Not):
            inner = self.render(node.query)
            return None if inner is None else f"!({inner})"
        if isinstance(node, query.AndNot):
            positive, negative = self.render(node.a), self.render(node.b)
            if positive is None or negative is None:
                return positive
            return f"({positive}) & !({negative})"
        if isinstance(node, query.AndMaybe):
            return self.render(node.a)
        if isinstance(node, (query.And, query.Or)):
            parts = [p for p in (self.render(child) for child in node.children()) if p]
            if not parts:
                return None
            joiner = " & " if isinstance(node, query.And) else " | "
            return "(" + joiner.join(parts) + ")"
        if node is query.NullQuery:
            return None
        raise QueryError(f"the query could not be parsed ({type(node).__name__})")


def pg_family(suffix: str) -> str:
    """The configuration family of an index field family: CJK text is `simple` there."""
    return suffix if suffix in FAMILIES else FOLD_SUFFIX


def family_tsquery(checked: CheckedQuery, family: str) -> tuple[str | None, bool]:
    """One family's tsquery text (None: nothing can match there) and whether it drops the
    query's stop words."""
    tree = parse(checked)
    drop = drops_stop_words(tree, family)
    return _Renderer(family, drop_stops=drop).render(tree), drop


def compile_tsqueries(checked: CheckedQuery) -> dict[str, str]:
    """The tsquery text of a checked query for each configuration where something in it can
    match (by configuration name); empty when nothing can."""
    tree = parse(checked)
    out = {}
    for family in FAMILIES:
        renderer = _Renderer(family, drop_stops=drops_stop_words(tree, family))
        rendered = renderer.render(tree)
        if rendered is not None:
            out[config_name(family)] = rendered
    return out
