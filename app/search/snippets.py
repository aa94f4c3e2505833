"""Snippets of Whoosh hits: where a page's words occur in an article, marked, in fragments.

Whoosh's highlighter analyses (folds and stems) every word of the text it is given and then
walks its tokens one by one, in pure Python, which cost more than the search itself. Here a
regular expression finds the places where an indexed term may begin (case and accents aside),
only the words at those places are analysed, and fragments are cut around the words that give
a term: the work follows the matches, not the length of the article.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from anyascii import anyascii

from app.search import marks
from app.search.analysis import (
    LATIN_MARK,
    WORDS_AND_CJK_RUNS,
    family_analyzer,
    fold,
    latin_key,
    suffix_for,
)
from app.search.marks import SNIPPET_CHARS

SURROUND = 80  # characters of context before the first match of a fragment and after its last
FRAGMENTS = 2  # fragments in a snippet, the best ones, in the order of the text
MAX_MATCHES = 32  # matches of a body considered
_CJK_START = "\u2e80"  # terms from here on are CJK bigrams, found inside runs of characters
_BREAK = re.compile(r"\W+")
_WORD_CHAR = re.compile(r"\w")


@functools.cache
def _spellings() -> dict[str, str]:
    """For each folded letter, a regular-expression class of the letters that fold to it."""
    found: dict[str, set[str]] = {}
    for cp in range(0x3000):
        char = chr(cp)
        folded = fold(char)
        if len(folded) == 1 and folded != char:
            found.setdefault(folded, {folded}).add(char)
    return {
        folded: "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"
        for folded, chars in found.items()
    }


@functools.cache
def _capitals(latin: str) -> str:
    """The capital letters of Greek and Cyrillic whose Latin spellings begin with `latin`:
    where the names whose Latin spellings begin so may begin (`+bank` may be « Банк »)."""
    capitals = (chr(cp) for cp in range(0x0370, 0x0530) if chr(cp).isupper())
    found = "".join(c for c in capitals if latin_key(anyascii(c)).startswith(latin))
    return f"[{found}]" if found else "(?!)"


def _needle(term: str) -> str:
    """Where a text may hold a word that gives an indexed (folded, stemmed) term: the start of
    the word, or a CJK bigram itself."""
    if term.startswith(LATIN_MARK):  # a Latin spelling of a Cyrillic or Greek name
        return _capitals(term[len(LATIN_MARK) : len(LATIN_MARK) + 1])
    if term >= _CJK_START:
        return re.escape(term)
    # Stemmers may change the last letters: `appliqu` is the term of « application ».
    start = term[: max(3, len(term) - 2)]
    spellings = _spellings()
    return "".join(spellings.get(c) or re.escape(c) for c in start)


@functools.lru_cache(maxsize=256)
def _needles(terms: frozenset[str]) -> re.Pattern[str]:
    """One pattern for all the terms of a request (the same for every hit of a page). With
    CJK bigrams it matches nothing in place, so that overlapping bigrams are all found; word
    starts are checked after a match (`\\b` in the pattern would be tried everywhere)."""
    either = "|".join(sorted({_needle(term) for term in terms}))
    cjk = any(term >= _CJK_START and not term.startswith(LATIN_MARK) for term in terms)
    return re.compile(f"(?=({either}))" if cjk else f"({either})")


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    term: str


_analyzer = functools.cache(family_analyzer)


@functools.lru_cache(maxsize=20_000)  # about 6 MB
def _word_terms(family: str, word: str) -> frozenset[str]:
    """The terms a word gives in a family's fields. The analysers tokenise each word, and each
    run of CJK characters, on its own, so a word analysed alone gives its terms in a text."""
    tokens = _analyzer(family)(word, removestops=False, mode="query")
    return frozenset(token.text for token in tokens)


def _matches(text: str, terms: frozenset[str], family: str, *, most: int) -> list[_Match]:
    """The words (or bigrams) of `text` that give one of the terms, in order, at most `most`."""
    found: list[_Match] = []
    analysed_to = 0
    for place in _needles(terms).finditer(text):
        start, seen = place.start(), place.group(1)
        if seen >= _CJK_START:
            found.append(_Match(start, start + len(seen), seen))
        elif (
            start >= analysed_to
            and (start == 0 or not _WORD_CHAR.match(text, start - 1))
            and (word := WORDS_AND_CJK_RUNS.match(text, start))
        ):
            analysed_to = word.end()
            given = _word_terms(family, word.group()) & terms
            if given:
                found.append(_Match(start, word.end(), min(given)))
        if len(found) >= most:
            break
    return found


@dataclass
class _Fragment:
    start: int
    end: int
    matches: list[_Match] = field(default_factory=list)

    @property
    def score(self) -> int:
        """Whoosh's `BasicFragmentScorer`: the matches, times a hundred per distinct term."""
        return len(self.matches) * 100 * len({m.term for m in self.matches})


def _fragments(text: str, found: list[_Match]) -> list[_Fragment]:
    """Fragments of at most SNIPPET_CHARS around the matches, as Whoosh's `ContextFragmenter`
    cuts them: SURROUND characters before the first match and after the last, a match more
    than SURROUND after the previous one beginning a fragment of its own; cut between words."""
    fragments: list[_Fragment] = []
    for match in found:
        last = fragments[-1] if fragments else None
        if last is not None:
            if (
                match.start - last.matches[-1].end <= SURROUND
                and match.end <= last.start + SNIPPET_CHARS
            ):
                last.matches.append(match)
                continue
            last.end = min(_cut(text, last), match.start)
        start = max(match.start - SURROUND, last.end if last else 0)
        if start > 0:
            gap = _BREAK.search(text, start, match.start)
            start = gap.end() if gap else match.start
        fragments.append(_Fragment(start, 0, [match]))
    if fragments:
        fragments[-1].end = _cut(text, fragments[-1])
    return fragments


def _cut(text: str, fragment: _Fragment) -> int:
    """Where a fragment ends: SURROUND after its last match, within SNIPPET_CHARS, between
    words."""
    after = fragment.matches[-1].end
    end = min(len(text), fragment.start + SNIPPET_CHARS, after + SURROUND)
    if end == len(text):
        return end
    gaps = list(_BREAK.finditer(text, after, end + 1))
    return gaps[-1].start() if gaps else end


def _marked(text: str, fragment: _Fragment) -> str:
    start = fragment.start
    spans = [(m.start - start, m.end - start) for m in fragment.matches]
    return marks.marked(text[start : fragment.end], spans)


def snippet(terms: frozenset[str], *, body: str, language: str) -> str | None:
    """An escaped extract of `body` with the matched words in `<mark>`; None when none match."""
    if not terms:
        return None
    fragments = _fragments(body, _matches(body, terms, suffix_for(language), most=MAX_MATCHES))
    if not fragments:
        return None
    best = sorted(fragments, key=lambda f: (-f.score, f.start))[:FRAGMENTS]
    return " … ".join(_marked(body, f) for f in sorted(best, key=lambda f: f.start))


def marked_title(terms: frozenset[str], *, title: str, language: str) -> str | None:
    """The escaped title with its matched words in `<mark>`; None when none match."""
    if not terms:
        return None
    found = _matches(title, terms, suffix_for(language), most=len(title))
    if not found:
        return None
    return marks.marked(title, [(m.start, m.end) for m in found])
