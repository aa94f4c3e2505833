"""The spelling suggestion of PostgreSQL search (`did_you_mean`), as the Whoosh engine makes it.

The dictionary is `search_word` (migration 0003): the folded words (lower case, no accents) of
three letters or more of every article's title and body, under a trigram index, each with a
written form (« choïgou ») that the suggestion shows, as on Whoosh. pg_trgm finds
the words that look like a query word; among them, as on Whoosh, the nearest by optimal string
alignment distance (at most 2, same first letter) wins, then the one more articles hold, then
the first alphabetically. A word of the corpus is never corrected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rapidfuzz.distance import OSA
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app.search.analysis import fold
from app.search.postgres import CONFIGS
from app.search.tsquery import quoted

MAX_DISTANCE = 2
PREFIX = 1  # letters a suggestion shares with the word at its start, as on Whoosh
# Low enough for two edits in a short word (`choigu` and `choigou` share half their trigrams);
# the nearest CANDIDATES by trigram distance are then measured exactly.
SIMILARITY = 0.2
CANDIDATES = 50
COUNT_CAP = 1000  # articles counted per tied candidate: past it, more makes no difference

_FOLD = text("SELECT unaccent(lower(:word))")
_NEAR = text(
    "SELECT word, written FROM search_word WHERE word % :word "
    "ORDER BY word <-> :word, word LIMIT :limit"
)
# An article holds a word when its vector matches the word as any configuration reads it.
_HOLDS = " || ".join(f"to_tsquery('{name}'::regconfig, c.token)" for name in CONFIGS)
_COUNTS = text(
    "SELECT c.word, (SELECT count(*) FROM (SELECT 1 FROM article a"
    f" WHERE a.search @@ ({_HOLDS}) LIMIT :cap) held)"
    " FROM unnest(CAST(:words AS text[]), CAST(:tokens AS text[])) AS c(word, token)"
)


class TimedOut(Exception):
    """The time limit passed before the suggestion was found."""


def suggest_word(session: Session, word: str, *, seconds: float) -> str | None:
    """A word of the corpus close to `word` (accents aside), as written; None when `word` is itself
    a word of the corpus, is no word (digits, codes: fewer than 3 letters or not only letters)
    or nothing is near. TimedOut past `seconds` (the transaction is then rolled back)."""
    if len(fold(word)) < 3 or not fold(word).isalpha():
        return None
    _limit(session, seconds)
    # folded as the dictionary's words were (unaccent folds more than Python: ß is ss)
    folded = str(session.execute(_FOLD, {"word": word}).scalar_one())
    session.execute(text(f"SET LOCAL pg_trgm.similarity_threshold = {SIMILARITY}"))
    written = dict(_run(session, _NEAR, {"word": folded, "limit": CANDIDATES}))
    near = list(written)
    if folded in written:
        return None  # a word of the corpus is never corrected
    distances: dict[str, int] = {}
    for candidate in near:
        if candidate[:PREFIX] != folded[:PREFIX]:
            continue
        distance = OSA.distance(candidate, folded, score_cutoff=MAX_DISTANCE)
        if distance <= MAX_DISTANCE:
            distances[candidate] = distance
    if not distances:
        return None
    nearest = min(distances.values())
    tied = sorted(w for w, d in distances.items() if d == nearest)
    if len(tied) == 1:
        return str(written[tied[0]])
    params = {"words": tied, "tokens": [quoted(w) for w in tied], "cap": COUNT_CAP}
    held = {w: int(n) for w, n in _run(session, _COUNTS, params)}
    return str(written[min(tied, key=lambda w: (-held.get(w, 0), w))])


def _limit(session: Session, seconds: float) -> None:
    """What is left of the time limit, for the rest of the transaction (PostgreSQL counts 0 as
    no limit: at least a millisecond is set)."""
    if seconds <= 0:
        raise TimedOut
    session.execute(text(f"SET LOCAL statement_timeout = {max(1, int(seconds * 1000))}"))


def _run(session: Session, statement: Any, params: dict[str, Any]) -> Sequence[Any]:
    try:
        return session.execute(statement, params).all()
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "57014":  # query_canceled
            session.rollback()
            raise TimedOut from None
        raise
