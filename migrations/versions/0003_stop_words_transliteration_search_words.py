"""Stop words indexed, Latin spellings of Cyrillic and Greek words, a dictionary for did_you_mean

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Both dialects get `article.transliteration`: the Latin spellings of the article's Cyrillic and
Greek words (`app.search.analysis.latin_spellings`, which keeps the capitalised ones), written
by the store with the article and filled here for the articles already stored. Only
PostgreSQL search reads it; the Whoosh analysers transliterate by themselves.

On PostgreSQL only:

- Each stemmed language's configuration maps words through `unaccent`, then a Snowball
  dictionary of its own without a stop-word list (`newsdesk_fr_stem`…): stop words are indexed
  like any word, and the query side drops them where it should (`la`, `du` are kept in
  `to_tsvector('newsdesk_fr', 'la Corée du Nord')`, in positions 1 to 4).
- `article.search` is built again (a stored generated column is not recomputed when a
  configuration changes), with the transliteration weighted D after the title, body and source:
  a query asks it only with its Latin words' keys (`'golunov':D`), never with its other words.
- `search_word`: every word of the titles and bodies of articles not in Japanese, Korean or
  Chinese, folded (lower case, accents removed) with a written form, of three letters or more,
  under a trigram index (pg_trgm): the dictionary of
  `did_you_mean`. Statement-level triggers on `article` add the words of inserted and changed
  articles; words are never removed (a stale word is harmless: a suggestion is offered only if
  it finds articles).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.search.analysis import latin_spellings

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Migration 0002's lists (a migration never imports another).
STEMMERS = {
    "ar": "arabic", "da": "danish", "de": "german", "en": "english", "es": "spanish",
    "fi": "finnish", "fr": "french", "hu": "hungarian", "it": "italian", "nl": "dutch",
    "no": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sv": "swedish",
}
BODY_CHARS = 250_000
WORD_TOKENS = "asciiword, asciihword, hword_asciipart, word, hword, hword_part"

# Greek and Cyrillic (with the Cyrillic supplement), as app.search.analysis transliterates them.
TRANSLITERATED = "[\u0370-\u052f]"
BATCH = 500

_VECTOR_0002 = (
    "setweight(to_tsvector(newsdesk_ts_config(language), title), 'A') || "
    f"setweight(to_tsvector(newsdesk_ts_config(language), left(body, {BODY_CHARS})), 'B') || "
    "setweight(to_tsvector(newsdesk_ts_config(language), coalesce(source, '')), 'C')"
)
_VECTOR_0003 = (
    f"{_VECTOR_0002} || "
    "setweight(to_tsvector(newsdesk_ts_config(language), coalesce(transliteration, '')), 'D')"
)

# The words of `did_you_mean`'s dictionary in a set of articles `a`: `simple` lowers them, and
# each is kept folded (unaccent, Cyrillic and Greek too) with a written form, an accented one
# first (« président » rather than a title's `PRESIDENT`); letters only, three or more (no
# digits, `_` or `-`: of `Jong-un` only the part `jong` is kept). Sorted, so that two
# transactions adding the same new words insert them in the same order (else ON CONFLICT can
# deadlock).
_WORD = r"^[^[:digit:][:punct:][:space:][:cntrl:]]{3,}$"


def _words_of(source: str) -> str:
    return (
        "SELECT DISTINCT ON (unaccent(w.word)) unaccent(w.word), w.word "
        f"FROM {source} AS a CROSS JOIN LATERAL "
        "unnest(tsvector_to_array(to_tsvector('pg_catalog.simple'::regconfig, "
        f"a.title || ' ' || left(a.body, {BODY_CHARS})))) AS w(word) "
        f"WHERE a.language NOT IN ('ja', 'ko', 'zh') AND w.word ~ '{_WORD}' "
        "ORDER BY unaccent(w.word), w.word = unaccent(w.word), w.word"
    )


# In an UPDATE, the articles whose title or body changed: compared once per article, before
# their words are listed (a join after them compares the bodies once per word).
_CHANGED = (
    "(SELECT n.language, n.title, n.body FROM new_articles n JOIN old_articles o ON o.id = n.id"
    " WHERE o.title IS DISTINCT FROM n.title OR o.body IS DISTINCT FROM n.body"
    " OFFSET 0)"
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:  # built again below, once the transliterations are in (not at each update)
        op.execute("DROP INDEX ix_article_search")
        op.execute("ALTER TABLE article DROP COLUMN search")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transliteration", sa.Text(), nullable=True))
    _fill_transliterations(postgres=postgres)
    if not postgres:
        return
    for code, stemmer in STEMMERS.items():
        op.execute(
            f"CREATE TEXT SEARCH DICTIONARY newsdesk_{code}_stem "
            f"(TEMPLATE = snowball, Language = {stemmer})"
        )
        op.execute(
            f"ALTER TEXT SEARCH CONFIGURATION newsdesk_{code} "
            f"ALTER MAPPING FOR {WORD_TOKENS} WITH unaccent, newsdesk_{code}_stem"
        )
    _add_search_column(_VECTOR_0003)

    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE TABLE search_word (word text PRIMARY KEY, written text NOT NULL)")
    op.execute(
        f"INSERT INTO search_word (word, written) {_words_of('article')} ON CONFLICT DO NOTHING"
    )
    op.execute("CREATE INDEX ix_search_word_trigram ON search_word USING gin (word gin_trgm_ops)")
    # An UPDATE adds the words of the articles whose title or body changed; an INSERT, all.
    # (A trigger with transition tables takes one event, hence two triggers on one function.)
    inserted = _words_of("new_articles")
    updated = _words_of(_CHANGED)
    op.execute(
        "CREATE FUNCTION newsdesk_add_search_words() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "  IF TG_OP = 'INSERT' THEN\n"
        f"    INSERT INTO search_word (word, written) {inserted}\n"
        "    ON CONFLICT DO NOTHING;\n"
        "  ELSE\n"
        f"    INSERT INTO search_word (word, written) {updated}\n"
        "    ON CONFLICT DO NOTHING;\n"
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END\n"
        "$$"
    )
    op.execute(
        "CREATE TRIGGER article_search_words_insert AFTER INSERT ON article "
        "REFERENCING NEW TABLE AS new_articles "
        "FOR EACH STATEMENT EXECUTE FUNCTION newsdesk_add_search_words()"
    )
    op.execute(
        "CREATE TRIGGER article_search_words_update AFTER UPDATE ON article "
        "REFERENCING OLD TABLE AS old_articles NEW TABLE AS new_articles "
        "FOR EACH STATEMENT EXECUTE FUNCTION newsdesk_add_search_words()"
    )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER article_search_words_update ON article")
        op.execute("DROP TRIGGER article_search_words_insert ON article")
        op.execute("DROP FUNCTION newsdesk_add_search_words()")
        op.execute("DROP TABLE search_word")  # and its index; pg_trgm stays, as unaccent does
        op.execute("DROP INDEX ix_article_search")
        op.execute("ALTER TABLE article DROP COLUMN search")
        for code, stemmer in STEMMERS.items():
            op.execute(
                f"ALTER TEXT SEARCH CONFIGURATION newsdesk_{code} "
                f"ALTER MAPPING FOR {WORD_TOKENS} WITH unaccent, {stemmer}_stem"
            )
            op.execute(f"DROP TEXT SEARCH DICTIONARY newsdesk_{code}_stem")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_column("transliteration")
    if postgres:
        _add_search_column(_VECTOR_0002)


def _add_search_column(vector: str) -> None:
    op.execute(f"ALTER TABLE article ADD COLUMN search tsvector GENERATED ALWAYS AS ({vector}) STORED")
    op.execute("CREATE INDEX ix_article_search ON article USING gin (search)")


def _fill_transliterations(*, postgres: bool) -> None:
    """The Latin spellings of the articles that hold Cyrillic or Greek letters, in batches by
    id (on PostgreSQL the others are skipped by a regular expression; SQLite has none)."""
    bind = op.get_bind()
    where = "(title ~ :script OR body ~ :script) AND " if postgres else ""
    select = sa.text(
        f"SELECT id, title, body, language FROM article WHERE {where}id > :after "
        "ORDER BY id LIMIT :batch"
    )
    update = sa.text("UPDATE article SET transliteration = :spellings WHERE id = :id")
    after = -1
    while True:
        params = {"after": after, "batch": BATCH, "script": TRANSLITERATED}
        rows = bind.execute(select, params).all()
        if not rows:
            return
        values = []
        for article_id, title, body, language in rows:
            spellings = latin_spellings(f"{title}\n{body}", language)
            if spellings is not None:
                values.append({"id": article_id, "spellings": spellings})
        if values:
            bind.execute(update, values)
        after = rows[-1][0]
