"""Analysis: what a text becomes in the index, and what a query word becomes, per language.

The chain is tokenise, lowercase, fold accents, then stem; folding comes before stemming, so
that `coree` and `Corée` reach the stemmer as the same word. Stop words are indexed like any
word: a query drops them in the languages that list them (`la` for French articles, `the` for
English ones) unless it holds nothing else, and a phrase keeps them in place, so that
`« la Corée du Nord »` is that phrase and `to be or not to be` finds Hamlet.

Capitalised words in Cyrillic or Greek (names, mostly) are also indexed as their Latin
spellings (anyascii, in the same position, not stemmed, behind LATIN_MARK); a query's Latin
words also ask those, and its capitalised Cyrillic and Greek words ask their Latin spellings of
Latin texts, so that `golunov` finds « Голунов » and `Голунов` finds « Golunov ».

The analyser classes are pickled into the index's TOC: never rename or move them.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from anyascii import anyascii
from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    Token,
    Tokenizer,
)
from whoosh.lang import has_stemmer, has_stopwords, stemmer_for_language, stopwords_for_language
from whoosh.support.charset import accent_map

_CJK = (
    "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
)
# Words (keeping decimals such as 7.4 whole) outside CJK scripts; runs of CJK characters apart.
WORD_PATTERN = rf"[^\W{_CJK}]+(?:[.,]\d+)*"
_WORD = re.compile(WORD_PATTERN)
# What each analyser tokenises on its own: a word analysed alone gives its tokens in a text.
WORDS_AND_CJK_RUNS = re.compile(rf"[{_CJK}]+|{WORD_PATTERN}")
_CJK_RUN = re.compile(rf"[{_CJK}]+")
# Scripts whose words also get a Latin form: Greek and Cyrillic.
_TRANSLITERATED = re.compile("[\u0370-\u03ff\u0400-\u052f]")

# Languages Whoosh can stem; each gets its own title and body fields.
STEMMED_LANGUAGES = tuple(
    lang
    for lang in (
        "ar",
        "da",
        "de",
        "en",
        "es",
        "fi",
        "fr",
        "hu",
        "it",
        "nl",
        "no",
        "pt",
        "ro",
        "ru",
        "sv",
    )
    if has_stemmer(lang)
)
CJK_LANGUAGES = ("ja", "ko", "zh")
FOLD_SUFFIX = "xx"
CJK_SUFFIX = "cjk"
# The field families of the index: one per stemmed language, one folding, one for CJK text.
SUFFIXES = (*STEMMED_LANGUAGES, FOLD_SUFFIX, CJK_SUFFIX)

# Accents folded: Whoosh's table, and the ё that Russian writers mostly write е (PostgreSQL's
# unaccent folds it too).
FOLDING = {
    **accent_map,
    ord("ё"): "е",
    ord("Ё"): "Е",
    # Greek letters with tonos or dialytika: their base letter (ά → α, ϊ → ι)
    **{
        cp: base
        for cp in range(0x0370, 0x0400)
        if (base := unicodedata.normalize("NFD", chr(cp))[0]) != chr(cp) and base.isalpha()
    },
}
# Latin spellings of names in other scripts are indexed behind this mark, so that only a query's
# Latin words meet them (`golunov` « Голунов »), never its ordinary words (`Lyon` is no `lion`).
LATIN_MARK = "+"

# Elided forms that the French list lacks (`jusqu’à`, `lorsqu’il`…).
_EXTRA_STOPS = {"fr": {"jusqu", "lorsqu", "puisqu", "quoiqu"}}


def suffix_for(language: str) -> str:
    """Which field family analyses text in this language."""
    if language in STEMMED_LANGUAGES:
        return language
    if language in CJK_LANGUAGES:
        return CJK_SUFFIX
    return FOLD_SUFFIX


@functools.cache
def stop_words(lang: str) -> frozenset[str]:
    """The stop list of a field family (empty where Whoosh has none)."""
    words = set(stopwords_for_language(lang)) if has_stopwords(lang) else set()
    return frozenset(words | _EXTRA_STOPS.get(lang, set()))


def fold(word: str) -> str:
    """Lower case without accents."""
    return word.lower().translate(FOLDING)


@functools.cache
def _stemmer(lang: str) -> Callable[[str], str]:
    if lang not in STEMMED_LANGUAGES:
        return str
    stem: Callable[[str], str] = stemmer_for_language(lang)
    return functools.lru_cache(maxsize=100_000)(stem)


def term_form(word: str, lang: str) -> str:
    """A whole word folded and stemmed as the family does: what `word*` and `word~` expand."""
    return _stemmer(lang)(fold(word))


def latin_key(word: str) -> str:
    """A Latin spelling with the choices transliterations disagree on made one way: `y` and
    `ii` as `i`, apostrophes dropped (`Shoygu`, `Shoigu` → `shoigu`; `Naval'nyy` → `navalni`)."""
    key = word.lower().replace("'", "").replace("y", "i")
    return re.sub("i{2,}", "i", key)


@functools.lru_cache(maxsize=100_000)
def _latin_spellings(folded: str, lang: str) -> tuple[str, ...]:
    """The Latin spellings of a Cyrillic or Greek word: its transliteration and that of its
    stem, as words (PostgreSQL stems them itself)."""
    forms = {latin_key(anyascii(w)) for w in (folded, _stemmer(lang)(folded))}
    return tuple(sorted(f for f in forms if len(f) > 1 and f.isascii()))


def _named(word: str) -> bool:
    """A Cyrillic or Greek word written with a capital, as names are: the words whose Latin
    spellings are indexed (`Голунов`, not `банк`, which would bring Russian articles to every
    search for `bank`)."""
    return word[:1].isupper() and _TRANSLITERATED.search(word) is not None


def latin_spellings(text: str, language: str) -> str | None:
    """The Latin spellings of the capitalised Cyrillic and Greek words of a text,
    space-separated, for PostgreSQL's vector (the Whoosh analyser indexes the same words);
    None without any."""
    if not _TRANSLITERATED.search(text):
        return None
    lang = suffix_for(language)
    found: dict[str, None] = {}
    for match in _WORD.finditer(text):
        if _named(match.group(0)):
            found.update(dict.fromkeys(_latin_spellings(fold(match.group(0)), lang)))
    return " ".join(found) or None


@dataclass(frozen=True)
class WordToken:
    """One word of a text as a field family reads it."""

    surface: str  # as written
    folded: str  # lower case without accents
    text: str  # the indexed term
    alternatives: tuple[str, ...]  # other Whoosh terms a query also asks in this position
    latin: tuple[str, ...]  # a name's Latin spellings, asked of Latin texts (`Голунов`)
    keys: tuple[str, ...]  # a Latin word as the spellings of names are written (`zelensky`)
    stop: bool
    start: int
    end: int


def word_tokens(value: str, lang: str, *, keep_cjk: bool | None = None) -> list[WordToken]:
    """The words of `value` as the field family `lang` analyses them. Runs of CJK characters
    are kept whole in the CJK family (and with `keep_cjk`); other families skip them, as their
    analysers do."""
    stops = stop_words(lang)
    stem = _stemmer(lang)
    pattern = (
        WORDS_AND_CJK_RUNS if (lang == CJK_SUFFIX if keep_cjk is None else keep_cjk) else _WORD
    )
    out = []
    for match in pattern.finditer(value):
        surface = match.group(0)
        lowered = surface.lower()
        folded = lowered.translate(FOLDING)
        text = stem(folded)
        latin: tuple[str, ...] = ()
        keys: tuple[str, ...] = ()
        found: set[str] = set()
        if _named(surface):
            # « Голунов » meets the `golunov` of a Latin text, as that text's family stems it
            latin = _latin_spellings(folded, lang)
            found.update(form for s in latin for form in (s, stem(s)))
        elif folded.isascii() and folded.isalpha():
            # `golunov`, `golunova`, `Shoygu` meet the marked Latin spellings of names
            keys = (latin_key(folded),)
            found.update(LATIN_MARK + key for key in keys)
        found.discard(text)
        alternatives = tuple(sorted(found))
        out.append(
            WordToken(
                surface=surface,
                folded=folded,
                text=text,
                alternatives=alternatives,
                latin=latin,
                keys=keys,
                stop=lowered in stops,
                start=match.start(),
                end=match.end(),
            )
        )
    return out


class LanguageAnalyzer(Analyzer):  # type: ignore[misc]
    """Tokenise, lowercase, fold accents, stem (for a stemmed language), in one pass; the
    Latin forms of Cyrillic and Greek words in the same position. Stop words are kept."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __getstate__(self) -> dict[str, Any]:
        return {"lang": self.lang}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.lang = state["lang"]

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.lang == getattr(other, "lang", None)

    def __hash__(self) -> int:
        return hash((type(self), self.lang))

    def __repr__(self) -> str:
        return f"LanguageAnalyzer({self.lang!r})"

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        stem = _stemmer(self.lang)
        lang = self.lang
        pos = start_pos
        matches = _WORD.finditer(value) if tokenize else [re.match(r"(?s).*", value)]
        for match in matches:
            if match is None:
                continue
            lowered = match.group(0).lower()
            folded = lowered.translate(FOLDING)
            token.text = stem(folded)
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = match.group(0)
            if positions:
                token.pos = pos
            if chars:
                token.startchar = start_char + match.start()
                token.endchar = start_char + match.end()
            yield token
            if not folded.isascii() and _named(match.group(0)):
                for form in _latin_spellings(folded, lang):
                    token.text = LATIN_MARK + form
                    yield token
            pos += 1


class CJKBigramTokenizer(Tokenizer):  # type: ignore[misc]
    """Words as words, and runs of Chinese, Japanese or Korean characters as overlapping bigrams.

    These scripts do not separate words by spaces; bigrams make any substring of two or more
    characters findable, and consecutive positions let a query match them as a phrase.
    """

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for match in WORDS_AND_CJK_RUNS.finditer(value):
            text = match.group(0)
            start = match.start()
            for piece, offset in bigrams(text, start):
                token.text = piece
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = piece
                if positions:
                    token.pos = pos
                if chars:
                    token.startchar = start_char + offset
                    token.endchar = start_char + offset + len(piece)
                pos += 1
                yield token


def bigrams(text: str, start: int = 0) -> list[tuple[str, int]]:
    """A run of CJK characters as overlapping bigrams with their offsets; other words whole."""
    if _CJK_RUN.fullmatch(text) and len(text) > 1:
        return [(text[i : i + 2], start + i) for i in range(len(text) - 1)]
    return [(text, start)]


def language_analyzer(lang: str) -> Analyzer:
    """The analyser of a stemmed language's fields, or of the folding family (FOLD_SUFFIX)."""
    return LanguageAnalyzer(lang)


def cjk_analyzer() -> Analyzer:
    """Bigrams of CJK text, folded words elsewhere."""
    return CJKBigramTokenizer() | LowercaseFilter() | CharsetFilter(FOLDING)


def family_analyzer(suffix: str) -> Analyzer:
    """The analyser of a field family's titles and bodies."""
    return cjk_analyzer() if suffix == CJK_SUFFIX else language_analyzer(suffix)


# A term of the spelling dictionary: the word folded, then as written (lower case).
SPELLING_SEPARATOR = "\x1f"


class SpellingFilter(Filter):  # type: ignore[misc]
    """`folded␟written`: the dictionary is searched by folded words and shows written ones."""

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            token.text = f"{token.text.translate(FOLDING)}{SPELLING_SEPARATOR}{token.text}"
            yield token


def spelling_analyzer() -> Analyzer:
    """Real words (lowercased, never stemmed), keyed by their folded form: the dictionary of
    `did_you_mean`."""
    return RegexTokenizer(r"[^\W\d_]{3,}") | LowercaseFilter() | SpellingFilter()


@dataclass(frozen=True)
class TokenAnalysis:
    """What one word of a text becomes at each stage of a family's analysis."""

    token: str  # as written
    lowercase: str
    stop: bool  # on the family's stop list
    in_query: bool  # kept when the text is a query (stop words are dropped unless alone)
    folded: str
    terms: tuple[str, ...]  # what the engine indexes and matches (stems, bigrams)
    latin: tuple[str, ...]  # Latin spellings indexed beside it


@dataclass(frozen=True)
class LanguageAnalysis:
    """A text as one language's articles are analysed, and the query it makes for them."""

    language: str
    family: str
    tokens: list[TokenAnalysis]
    query: str | None  # what the engine runs for this family (None: nothing can match)


# The languages /v1/analyze shows without `language`: one per field family.
ANALYSIS_LANGUAGES = (*STEMMED_LANGUAGES, "und", "ja", "ko", "zh")


def analyse(
    text: str,
    language: str,
    *,
    drop_stops: bool,
    terms: Callable[[WordToken, str], tuple[str, ...]] | None = None,
    query: str | None,
) -> LanguageAnalysis:
    """The stages of `text` in the family of `language`; `terms` gives the engine's own terms
    of a token (the Whoosh ones by default)."""
    family = suffix_for(language)
    tokens = []
    for t in word_tokens(text, family):
        if terms is not None:
            found = terms(t, family)
        elif family == CJK_SUFFIX:
            found = tuple(piece for piece, _ in bigrams(t.text))
        else:
            indexed = _latin_spellings(t.folded, family) if _named(t.surface) else ()
            found = (t.text, *(LATIN_MARK + s for s in indexed))
        tokens.append(
            TokenAnalysis(
                token=t.surface,
                lowercase=t.surface.lower(),
                stop=t.stop,
                in_query=not (t.stop and drop_stops),
                folded=t.folded,
                terms=found,
                latin=t.latin,
            )
        )
    return LanguageAnalysis(language=language, family=family, tokens=tokens, query=query)
