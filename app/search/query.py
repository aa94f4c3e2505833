"""From the user's query string to a Whoosh query, with the bounds and errors DESIGN.md sets.

Whoosh does not raise on most bad syntax and is slow or unsafe on some inputs (quadratic parsing
of long tokens, unbounded wildcards and fuzzy distances, recursion on deep parentheses), so the
string is checked before it reaches the parser, and the parsed tree is checked after.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

from whoosh import qparser, query
from whoosh.fields import Schema
from whoosh.qparser import syntax

from app.search.expansion import bounded

QUOTES = str.maketrans(dict.fromkeys("«»“”„‟", '"'))
OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}
MAX_DEPTH = 8
MAX_SLOP = 20
MIN_PREFIX = 2
MIN_FUZZY = 3
# Prefix and fuzzy terms enumerate the term dictionary of every language field: a few per query.
MAX_EXPANSIONS = 4
FIELDS = ("title", "body", "source")
_WORD = re.compile(r"[^\W_]+")
_FUZZY = re.compile(r"~(\d*)(?:/(\d+))?")
_MINUS = re.compile(r"(?<![\w\"])-(?=[\w\"(])")


class QueryError(ValueError):
    """A query that cannot be run, with the 0-based position of the problem when there is one."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass(frozen=True)
class CheckedQuery:
    """A query string that passed the checks, ready for the parser."""

    text: str
    words: tuple[str, ...]


def _outside_quotes(text: str) -> list[tuple[int, str]]:
    """The characters outside double quotes, with their positions."""
    out: list[tuple[int, str]] = []
    inside = False
    for i, ch in enumerate(text):
        if ch == '"':
            inside = not inside
        elif not inside:
            out.append((i, ch))
    return out


def check_query(
    raw: str, *, max_chars: int, max_terms: int, max_expansions: int = MAX_EXPANSIONS
) -> CheckedQuery:
    """Normalise quotes and `-term`, and refuse what the engine cannot run safely."""
    if len(raw) > max_chars:
        raise QueryError(f"the query is {len(raw)} characters long; the limit is {max_chars}")
    text = raw.translate(QUOTES)
    if not text.strip():
        raise QueryError("the query is empty")
    quotes = [i for i, ch in enumerate(text) if ch == '"']
    if len(quotes) % 2:
        raise QueryError("unclosed quote: a phrase opened here is never closed", quotes[-1])
    depth = 0
    opened: list[int] = []
    for i, ch in _outside_quotes(text):
        if ch == "(":
            depth += 1
            opened.append(i)
            if depth > MAX_DEPTH:
                raise QueryError(f"parentheses nest deeper than {MAX_DEPTH} levels", i)
        elif ch == ")":
            if not opened:
                raise QueryError("closing parenthesis without an opening one", i)
            depth -= 1
            opened.pop()
    if opened:
        raise QueryError("opening parenthesis never closed", opened[-1])
    for match in re.finditer(r"[*?]", text):
        i = match.start()
        if text[i] == "?":
            continue  # punctuation for us: wildcards other than a final `*` are not offered
        before = re.search(r"[^\W_]*$", text[:i])
        stem = before.group(0) if before else ""
        after = text[i + 1 : i + 2]
        if len(stem) < MIN_PREFIX or (after and not (after.isspace() or after == ")")):
            raise QueryError(
                f"wildcards are only allowed at the end of a word of at least {MIN_PREFIX} "
                "characters, as in `nucl*`",
                i,
            )
    for match in _FUZZY.finditer(text):
        i = match.start()
        distance = match.group(1)
        if i > 0 and text[i - 1] == '"':
            if distance and int(distance) > MAX_SLOP:
                raise QueryError(f"phrase slop is at most {MAX_SLOP}", i)
        elif match.group(2) is not None:
            raise QueryError("fuzzy terms take only an edit distance: `term~` or `term~2`", i)
        elif distance and int(distance) > 2:
            raise QueryError("fuzzy matching allows an edit distance of at most 2", i)
    expansions = len(re.findall(r"[^\W_]\*|[^\W_\"]~", text))
    if expansions > max_expansions:
        raise QueryError(
            f"the query has {expansions} prefix or fuzzy terms; the limit is {max_expansions}"
        )
    for match in re.finditer(r"([^\W_]*)~", text):
        if text[match.start() - 1 : match.start()] != '"' and len(match.group(1)) < MIN_FUZZY:
            raise QueryError(f"fuzzy terms need at least {MIN_FUZZY} letters", match.start())
    unsuffixed = _FUZZY.sub(" ", text)
    words = tuple(w for w in _WORD.findall(unsuffixed) if w not in OPERATORS)
    if len(words) > max_terms:
        raise QueryError(f"the query has {len(words)} terms; the limit is {max_terms}")
    # `-term` is NOT term (outside phrases).
    chars = list(text)
    for i, _ in _outside_quotes(text):
        if _MINUS.match(text, i):
            chars[i] = " NOT "
    return CheckedQuery(text="".join(chars), words=words)


class FieldFamilyPlugin(qparser.Plugin):  # type: ignore[misc]
    """Spreads `title:` and `body:` over the per-language title and body fields."""

    def __init__(self, families: dict[str, list[str]]) -> None:
        self.families = families

    def filters(self, parser: qparser.QueryParser) -> list[tuple[object, int]]:
        return [(self.do_families, 105)]  # after FieldsPlugin (100), before Multifield (110)

    def do_families(self, parser: qparser.QueryParser, group: syntax.GroupNode) -> syntax.GroupNode:
        for i, node in enumerate(group):
            if isinstance(node, syntax.GroupNode):
                group[i] = self.do_families(parser, node)
            elif node.has_fieldname and node.fieldname not in (None, *FIELDS):
                # Only the documented fields: the others are the index's own machinery.
                start = getattr(node, "startchar", None)
                raise QueryError(
                    f"unknown field `{node.fieldname}:`; use title:, body: or source:",
                    None if start is None else max(0, start - len(node.fieldname) - 1),
                )
            elif node.has_fieldname and node.fieldname in self.families:
                copies = []
                for name in self.families[node.fieldname]:
                    clone = copy.copy(node)
                    clone.set_fieldname(name, override=True)
                    copies.append(clone)
                group[i] = syntax.OrGroup(copies)
        return group


def _build_parser(schema: Schema, suffixes: tuple[str, ...]) -> qparser.QueryParser:
    titles = [f"title_{s}" for s in suffixes]
    bodies = [f"body_{s}" for s in suffixes]
    parser = with_newsdesk_syntax(qparser.MultifieldParser(titles + bodies, schema))
    parser.add_plugin(FieldFamilyPlugin({"title": titles, "body": bodies}))
    return parser


def with_newsdesk_syntax(parser: qparser.QueryParser) -> qparser.QueryParser:
    """The syntax DESIGN.md offers: no wildcards but a final `*`, no single quotes, ranges or
    `*:*`; fuzzy terms. Both search backends parse with it."""
    for plugin in (
        qparser.WildcardPlugin,
        qparser.SingleQuotePlugin,
        qparser.RangePlugin,
        qparser.EveryPlugin,
    ):
        parser.remove_plugin_class(plugin)
    parser.add_plugin(qparser.PrefixPlugin())
    parser.add_plugin(qparser.FuzzyTermPlugin())
    return parser


def _first_error(node: query.Query) -> str | None:
    error = getattr(node, "error", None)
    if error:
        return str(error)
    for child in node.children():
        found = _first_error(child)
        if found:
            return found
    return None


class QueryCompiler:
    """Parses checked queries against the language fields in use; parsers are built once."""

    def __init__(self, schema: Schema) -> None:
        self._schema = schema
        self._parsers: dict[tuple[str, ...], qparser.QueryParser] = {}

    def compile(self, checked: CheckedQuery, *, suffixes: tuple[str, ...]) -> query.Query:
        """Parse for the given language fields; raises QueryError."""
        parser = self._parsers.get(suffixes)
        if parser is None:
            parser = self._parsers.setdefault(suffixes, _build_parser(self._schema, suffixes))
        try:
            parsed = parser.parse(checked.text)
        except QueryError:
            raise
        except Exception as exc:  # the parser raises ValueError, AttributeError, RecursionError…
            raise QueryError(f"the query could not be parsed ({type(exc).__name__})") from None
        error = _first_error(parsed)
        if error:
            raise QueryError(f"the query could not be parsed: {error}")
        for leaf in parsed.leaves():
            if isinstance(leaf, query.FuzzyTerm):
                # Shared first letters keep the scan of the term dictionary short; never more
                # than the analysed term's length, which makes Whoosh raise IndexError.
                leaf.prefixlength = min(2, len(leaf.text))
        result: query.Query = parsed.accept(bounded)
        return result
