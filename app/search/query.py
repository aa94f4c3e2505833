"""From the user's query string to a Whoosh query, with the bounds and errors DESIGN.md sets.

Whoosh does not raise on most bad syntax and is slow or unsafe on some inputs (quadratic parsing
of long tokens, unbounded wildcards and fuzzy distances, recursion on deep parentheses), so the
string is checked before it reaches the parser, and the parsed tree is checked after.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from whoosh import qparser, query
from whoosh.analysis import RegexTokenizer
from whoosh.fields import TEXT, Schema
from whoosh.reading import IndexReader

from app.search.analysis import (
    CJK_SUFFIX,
    FOLD_SUFFIX,
    WordToken,
    bigrams,
    fold,
    stop_words,
    term_form,
    word_tokens,
)
from app.search.expansion import bounded
from app.search.schema import build_schema

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
_HAS_WORD = re.compile(r"[^\W_]")
_FUZZY = re.compile(r"~(\d*)(?:/(\d+))?")
_FIELD = re.compile(r"\b(?:title|body|source):")
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
    text = unicodedata.normalize("NFC", raw).translate(QUOTES)  # as articles are stored
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
    unsuffixed = _FIELD.sub(" ", _FUZZY.sub(" ", text))  # field names are not words to correct
    words = tuple(w for w in _WORD.findall(unsuffixed) if w not in OPERATORS)
    if len(words) > max_terms:
        raise QueryError(f"the query has {len(words)} terms; the limit is {max_terms}")
    # `-term` is NOT term (outside phrases).
    chars = list(text)
    for i, _ in _outside_quotes(text):
        if _MINUS.match(text, i):
            chars[i] = " NOT "
    return CheckedQuery(text="".join(chars), words=words)


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


def _raw_parser() -> qparser.QueryParser:
    # Words as typed, split on white space only: each engine analyses them per language.
    raw = TEXT(analyzer=RegexTokenizer(r"\S+"), phrase=True)
    # The index's own field names too, so that `lang:fr` is refused like any unknown field.
    names = {*build_schema().names(), "text", *FIELDS}
    return with_newsdesk_syntax(qparser.QueryParser("text", Schema(**dict.fromkeys(names, raw))))


_RAW_PARSER: qparser.QueryParser | None = None


def parse(checked: CheckedQuery) -> query.Query:
    """The query's tree with its words as typed (fields `text`, `title`, `body`, `source`):
    parsed once, then compiled by each search backend; raises QueryError."""
    global _RAW_PARSER
    if _RAW_PARSER is None:
        _RAW_PARSER = _raw_parser()
    try:
        parsed = _RAW_PARSER.parse(checked.text)
    except Exception as exc:  # the parser raises ValueError, AttributeError, RecursionError…
        raise QueryError(f"the query could not be parsed ({type(exc).__name__})") from None
    error = _first_error(parsed)
    if error:
        raise QueryError(f"the query could not be parsed: {error}")
    for leaf in parsed.leaves():
        if leaf.field() not in (None, "text", *FIELDS):
            found = checked.text.find(f"{leaf.field()}:")
            raise QueryError(
                f"unknown field `{leaf.field()}:`; use title:, body: or source:",
                None if found < 0 else found,
            )
    result: query.Query = parsed
    return result


def positive_leaves(node: query.Query) -> Iterator[query.Query]:
    """The leaves of a tree that are not negated."""
    if isinstance(node, query.Not):
        return
    if isinstance(node, query.AndNot):
        yield from positive_leaves(node.a)
        return
    if node.is_leaf():
        yield node
        return
    for child in node.children():
        yield from positive_leaves(child)


def drops_stop_words(tree: query.Query, lang: str) -> bool:
    """Whether the family `lang` drops the stop words of the query's plain words: unless they
    are all it has (`la`, `to be or not to be`). Phrases always keep them."""
    if not stop_words(lang):
        return False
    for leaf in positive_leaves(tree):
        if type(leaf) is query.Term and leaf.fieldname != "source":
            if any(not t.stop for t in word_tokens(leaf.text, lang)):
                return True
        elif leaf is not query.NullQuery:
            return True
    return False


# What a negation of a word a family cannot hold leaves there: all of the family's articles.
EVERYTHING = query.Every()

_FAMILY_FIELDS = {"text": ("title", "body"), "title": ("title",), "body": ("body",)}


class _FamilyCompiler:
    """The raw tree as one field family's Whoosh query."""

    def __init__(self, suffix: str, *, drop_stops: bool, reader: IndexReader | None = None) -> None:
        self.suffix = suffix
        self.drop_stops = drop_stops
        self.reader = reader  # when given, alternatives it does not hold are not asked

    def fields(self, leaf: query.Query) -> tuple[str, list[str]]:
        if leaf.fieldname == "source":
            return FOLD_SUFFIX, ["source"]
        return self.suffix, [f"{f}_{self.suffix}" for f in _FAMILY_FIELDS[leaf.fieldname]]

    def token(self, token: WordToken, fields: list[str], lang: str, boost: float) -> query.Query:
        if lang == CJK_SUFFIX:
            pieces = [piece for piece, _ in bigrams(token.text)]
            if len(pieces) > 1:
                return _any([query.Phrase(f, pieces, boost=boost) for f in fields])
        terms = [
            query.Term(f, text, boost=boost)
            for f in fields
            for text in (token.text, *token.alternatives)
            if self.holds(f, text)  # most Latin keys meet no name
        ]
        return _any(terms) if terms else query.NullQuery

    def holds(self, field: str, text: str) -> bool:
        """Whether the field can match the term: always without a reader. A term the index
        does not hold is left out, so no matcher walks its empty postings for every article."""
        return self.reader is None or (field, text) in self.reader

    def compile(self, node: query.Query) -> query.Query | None:
        """The node's query in this family: None where it asks nothing here (a stop word, no
        word at all), NullQuery where it asks what this family cannot hold (`中国` of a
        French article, or a word none of its articles holds), EVERYTHING where it excludes
        only such a word (`-中国`)."""
        if node.is_leaf() and node is not query.NullQuery and node.field() is None:
            return None  # an empty phrase or group
        if type(node) is query.Term:
            lang, fields = self.fields(node)
            tokens = word_tokens(node.text, lang)
            if not tokens:
                return query.NullQuery if _HAS_WORD.search(node.text) else None
            if self.drop_stops and lang != FOLD_SUFFIX:
                tokens = [t for t in tokens if not t.stop]
            parts = [self.token(t, fields, lang, node.boost) for t in tokens]
            return _all(parts)
        if isinstance(node, query.Phrase):
            lang, fields = self.fields(node)
            tokens = word_tokens(" ".join(node.words), lang)
            if lang == CJK_SUFFIX:
                texts = [piece for t in tokens for piece, _ in bigrams(t.text)]
            else:
                texts = [t.text for t in tokens]
            if not texts:
                return query.NullQuery if _HAS_WORD.search(" ".join(node.words)) else None
            if len(texts) == 1:
                return _all([self.token(t, fields, lang, node.boost) for t in tokens])
            phrases = [
                query.Phrase(f, texts, slop=node.slop, boost=node.boost)
                for f in fields
                if all(self.holds(f, text) for text in texts)
            ]
            return _any(phrases) if phrases else query.NullQuery
        if isinstance(node, (query.Prefix, query.FuzzyTerm)):
            lang, fields = self.fields(node)
            text = fold(node.text) if lang == CJK_SUFFIX else term_form(node.text, lang)
            if not _HAS_WORD.search(text):
                return None
            if isinstance(node, query.Prefix):
                return _any([query.Prefix(f, text, boost=node.boost) for f in fields])
            return _any(
                [
                    query.FuzzyTerm(
                        f,
                        text,
                        boost=node.boost,
                        maxdist=node.maxdist,
                        # Shared first letters keep the scan of the term dictionary short;
                        # never more than the term's length, which makes Whoosh raise.
                        prefixlength=min(2, len(text)),
                    )
                    for f in fields
                ]
            )
        if isinstance(node, query.Not):
            inner = self.compile(node.query)
            if inner is None:
                return None
            if inner is query.NullQuery:
                return EVERYTHING  # excluding what cannot be here excludes nothing
            if inner is EVERYTHING:
                return query.NullQuery
            return query.Not(inner, boost=node.boost)
        if isinstance(node, (query.AndNot, query.AndMaybe)):
            a, b = self.compile(node.a), self.compile(node.b)
            if isinstance(node, query.AndNot) and b is EVERYTHING:
                return query.NullQuery
            if a is None or a is query.NullQuery or b is None or b is query.NullQuery:
                return a
            if b is EVERYTHING:  # AndMaybe: everything adds nothing to the ranking
                return a
            return type(node)(a, b)
        if isinstance(node, (query.And, query.Or)):
            children = [c for c in map(self.compile, node.children()) if c is not None]
            if isinstance(node, query.And):
                if query.NullQuery in children:
                    return query.NullQuery
                narrowing = [c for c in children if c is not EVERYTHING]
                children = narrowing or children[:1]
            elif EVERYTHING in children:
                return EVERYTHING
            kept = [c for c in children if c is not query.NullQuery]
            if not kept:
                return query.NullQuery if children else None
            if len(kept) == 1:
                return kept[0]
            return type(node)(kept, boost=node.boost)
        if node is query.NullQuery:
            return None
        raise QueryError(f"the query could not be parsed ({type(node).__name__})")


def _negates(node: query.Query) -> bool:
    return isinstance(node, (query.Not, query.AndNot)) or any(map(_negates, node.children()))


def _any(parts: list[query.Query]) -> query.Query:
    """Any of the parts, nested alternatives flattened: one union of every field's terms walks
    each matching article once, where a union of unions walks it once per level."""
    flat: list[query.Query] = []
    for part in parts:
        if type(part) is query.Or and part.boost == 1.0:
            flat.extend(part.subqueries)
        else:
            flat.append(part)
    return flat[0] if len(flat) == 1 else query.Or(flat)


def _all(parts: list[query.Query]) -> query.Query | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else query.And(parts)


def family_query(checked: CheckedQuery, suffix: str) -> tuple[query.Query | None, bool]:
    """The query one field family runs for a checked query (None: nothing can match there),
    and whether it drops the query's stop words."""
    tree = parse(checked)
    drop = drops_stop_words(tree, suffix)
    compiled = _FamilyCompiler(suffix, drop_stops=drop).compile(tree)
    if compiled is EVERYTHING:
        compiled = query.Term("family", suffix)
    return (None if compiled is query.NullQuery else compiled), drop


class QueryCompiler:
    """Compiles checked queries for the language field families in use: each article is
    matched by the query as its own language reads it."""

    def __init__(self, schema: Schema) -> None:
        self._schema = schema

    def compile(
        self,
        checked: CheckedQuery,
        *,
        suffixes: tuple[str, ...],
        reader: IndexReader | None = None,
    ) -> query.Query:
        """The Whoosh query over these families (asking only the alternative spellings that
        `reader` holds, when given); raises QueryError."""
        return self.compile_tree(parse(checked), suffixes=suffixes, reader=reader)

    def compile_tree(
        self,
        tree: query.Query,
        *,
        suffixes: tuple[str, ...],
        reader: IndexReader | None = None,
    ) -> query.Query:
        """The Whoosh query of a parsed tree over these families."""
        families = []
        for suffix in suffixes:
            drop = drops_stop_words(tree, suffix)
            compiler = _FamilyCompiler(suffix, drop_stops=drop, reader=reader)
            compiled = compiler.compile(tree)
            if compiled is None or compiled is query.NullQuery:
                continue
            if compiled is EVERYTHING:  # every article of the family
                families.append(query.Term("family", suffix))
                continue
            if _negates(compiled):  # `-war` alone must not match every article of the family
                compiled = query.And([compiled, query.Term("family", suffix)])
            families.append(compiled)
        if not families:
            return query.NullQuery
        result: query.Query = _any(families).accept(bounded)
        return result
