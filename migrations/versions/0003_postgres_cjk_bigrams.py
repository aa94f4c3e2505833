"""PostgreSQL full-text search: Chinese, Japanese and Korean text also as bigrams

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

On SQLite this revision does nothing: the Whoosh index's CJK analyser already makes bigrams.

PostgreSQL's parser reads a run of CJK characters as one word (`탄도미사일을`, `宮城県沖で`), so
a word inside it could not be found. Articles in ja, ko and zh now also carry their CJK runs as
overlapping bigrams (a lone character as itself), in order, as Whoosh's CJK analyser indexes
them; app/search/tsquery.py asks for a query's CJK text as a phrase of the same bigrams. The
bigrams cover the title and the body's first 20,000 characters: with the words of its first
250,000, the vector stays under PostgreSQL's 1 MiB limit however the body is made.

The generated column cannot change its expression: it is dropped and added again, which
rewrites the table and rebuilds the GIN index.
"""
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# The CJK ranges of app/search/analysis.py (_CJK), as PostgreSQL regular expression escapes.
CJK = (
    r"\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    r"\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f"
)
CJK_LANGUAGES = "'ja', 'ko', 'zh'"
BODY_CHARS = 250_000
BIGRAM_BODY_CHARS = 20_000

_WORDS = (
    "setweight(to_tsvector(newsdesk_ts_config(language), title), 'A') || "
    f"setweight(to_tsvector(newsdesk_ts_config(language), left(body, {BODY_CHARS})), 'B') || "
    "setweight(to_tsvector(newsdesk_ts_config(language), coalesce(source, '')), 'C')"
)
_BIGRAMS = (
    f"CASE WHEN language IN ({CJK_LANGUAGES}) THEN "
    "setweight(to_tsvector(newsdesk_ts_config(language), newsdesk_cjk_grams(title)), 'A') || "
    "setweight(to_tsvector(newsdesk_ts_config(language), "
    f"newsdesk_cjk_grams(left(body, {BIGRAM_BODY_CHARS}))), 'B') "
    "ELSE ''::tsvector END"
)


def _search_column(expression: str) -> None:
    op.execute("DROP INDEX ix_article_search")
    op.execute("ALTER TABLE article DROP COLUMN search")
    op.execute(f"ALTER TABLE article ADD COLUMN search tsvector GENERATED ALWAYS AS ({expression}) STORED")
    op.execute("CREATE INDEX ix_article_search ON article USING gin (search)")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The CJK runs of a text as space-separated bigrams, in order; a run of one character as is.
    op.execute(
        "CREATE FUNCTION newsdesk_cjk_grams(content text) RETURNS text "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
        "SELECT coalesce(string_agg(substr(found.run[1], i, 2), ' ' ORDER BY found.n, i), '') "
        f"FROM regexp_matches(content, '[{CJK}]+', 'g') WITH ORDINALITY AS found(run, n), "
        "generate_series(1, greatest(char_length(found.run[1]) - 1, 1)) AS i $$"
    )
    _search_column(f"{_WORDS} || {_BIGRAMS}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _search_column(_WORDS)
    op.execute("DROP FUNCTION newsdesk_cjk_grams(text)")
