"""PostgreSQL full-text search: a configuration per language with unaccent, a tsvector, a GIN index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

On SQLite this revision does nothing: the Whoosh index is the search engine there, and its
integers are already 64-bit, which this revision also makes the ids on PostgreSQL.

`unaccent()` is not immutable and cannot go into a generated column; a text-search
configuration that maps words through the `unaccent` dictionary, then a stemmer, is. Each
article's vector is built with the configuration of its own language (`newsdesk_ts_config`),
its title weighted A and its body B, and stored, so searches read it from the GIN index.
"""
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Newsdesk's stemmed languages and PostgreSQL's Snowball dictionaries for them.
STEMMERS = {
    "ar": "arabic", "da": "danish", "de": "german", "en": "english", "es": "spanish",
    "fi": "finnish", "fr": "french", "hu": "hungarian", "it": "italian", "nl": "dutch",
    "no": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sv": "swedish",
}
BODY_CHARS = 250_000
WORD_TOKENS = "asciiword, asciihword, hword_asciipart, word, hword, hword_part"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Ids are 64-bit, as SQLite's are: the API takes ids up to 2**62 - 1, and a serial's
    # 32-bit integer would overflow on the lookup (a 500) rather than find nothing.
    for table, columns in (("article", ["id"]), ("index_outbox", ["id", "article_id"])):
        for column in columns:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE bigint")
        op.execute(f"ALTER SEQUENCE {table}_id_seq AS bigint")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    for code, stemmer in STEMMERS.items():
        op.execute(f"CREATE TEXT SEARCH CONFIGURATION newsdesk_{code} (COPY = pg_catalog.{stemmer})")
        op.execute(
            f"ALTER TEXT SEARCH CONFIGURATION newsdesk_{code} "
            f"ALTER MAPPING FOR {WORD_TOKENS} WITH unaccent, {stemmer}_stem"
        )
    # Every other language: case and accents folded, nothing stemmed, no stop words.
    op.execute("CREATE TEXT SEARCH CONFIGURATION newsdesk_simple (COPY = pg_catalog.simple)")
    op.execute(
        f"ALTER TEXT SEARCH CONFIGURATION newsdesk_simple "
        f"ALTER MAPPING FOR {WORD_TOKENS} WITH unaccent, simple"
    )
    cases = " ".join(f"WHEN '{code}' THEN 'newsdesk_{code}'::regconfig" for code in STEMMERS)
    op.execute(
        "CREATE FUNCTION newsdesk_ts_config(language text) RETURNS regconfig "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
        f"$$ SELECT CASE language {cases} ELSE 'newsdesk_simple'::regconfig END $$"
    )
    # A tsvector holds at most 1 MiB: a body is indexed up to its first 250,000 characters
    # (a 1M-character body of distinct words made 2 MiB). The source is read as the
    # article's language reads it, like the query that searches it.
    op.execute(
        "ALTER TABLE article ADD COLUMN search tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector(newsdesk_ts_config(language), title), 'A') || "
        f"setweight(to_tsvector(newsdesk_ts_config(language), left(body, {BODY_CHARS})), 'B') || "
        "setweight(to_tsvector(newsdesk_ts_config(language), coalesce(source, '')), 'C')"
        ") STORED"
    )
    op.execute("CREATE INDEX ix_article_search ON article USING gin (search)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_article_search")
    op.execute("ALTER TABLE article DROP COLUMN search")
    op.execute("DROP FUNCTION newsdesk_ts_config(text)")
    for code in [*STEMMERS, "simple"]:
        op.execute(f"DROP TEXT SEARCH CONFIGURATION newsdesk_{code}")
    for table, columns in (("article", ["id"]), ("index_outbox", ["id", "article_id"])):
        op.execute(f"ALTER SEQUENCE {table}_id_seq AS integer")
        for column in columns:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE integer")
