"""Analysers. Their names are pickled into the index's TOC: never rename or move them.

The chain is tokenise, lowercase, stop words, fold accents, then stem. Stop words come before
folding (the French list holds accented words such as `été`); folding comes before stemming, so
that `coree` and `Corée` reach the stemmer as the same word.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
    Tokenizer,
)
from whoosh.lang import has_stemmer, has_stopwords, stopwords_for_language
from whoosh.support.charset import accent_map

_CJK = (
    "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
)
# Words (keeping decimals such as 7.4 whole) outside CJK scripts; runs of CJK characters apart.
WORD_PATTERN = rf"[^\W{_CJK}]+(?:[.,]\d+)*"
_CJK_OR_WORD = re.compile(rf"[{_CJK}]+|{WORD_PATTERN}")
_CJK_RUN = re.compile(rf"[{_CJK}]+")

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

# Elided forms that the French list lacks (`jusqu’à`, `lorsqu’il`…).
_EXTRA_STOPS = {"fr": {"jusqu", "lorsqu", "puisqu", "quoiqu"}}


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
        for match in _CJK_OR_WORD.finditer(value):
            text = match.group(0)
            start = match.start()
            if _CJK_RUN.fullmatch(text) and len(text) > 1:
                pieces = [(text[i : i + 2], start + i) for i in range(len(text) - 1)]
            else:
                pieces = [(text, start)]
            for piece, offset in pieces:
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


def stop_words(lang: str) -> frozenset[str]:
    """The stop list used for a language (empty where Whoosh has none)."""
    words = set(stopwords_for_language(lang)) if has_stopwords(lang) else set()
    return frozenset(words | _EXTRA_STOPS.get(lang, set()))


def stemming_analyzer(lang: str) -> Analyzer:
    """Tokenise, lowercase, stop words, fold accents, stem: for languages Whoosh can stem."""
    chain = RegexTokenizer(WORD_PATTERN) | LowercaseFilter()
    stops = stop_words(lang)
    if stops:
        chain = chain | StopFilter(stoplist=stops)
    return chain | CharsetFilter(accent_map) | StemFilter(lang=lang, cachesize=50_000)


def folding_analyzer() -> Analyzer:
    """Tokenise, lowercase, fold accents: for languages without a stemmer."""
    return RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | CharsetFilter(accent_map)


def cjk_analyzer() -> Analyzer:
    """Bigrams of CJK text, folded words elsewhere."""
    return CJKBigramTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


def spelling_analyzer() -> Analyzer:
    """Real words, lowercased but neither folded nor stemmed: the dictionary of `did_you_mean`."""
    return RegexTokenizer(r"[^\W\d_]{3,}") | LowercaseFilter()
