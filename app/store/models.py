"""The tables: articles and the index outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Integer, MetaData, Text
from sqlmodel import Field, SQLModel

# Stable constraint names, so that Alembic batch migrations on SQLite can find them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata: MetaData = SQLModel.metadata

# 64-bit ids: BIGINT on PostgreSQL (migration 0002), and on SQLite the INTEGER that AUTOINCREMENT
# needs (64-bit there already). Queries bind ids with this type.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Article(SQLModel, table=True):
    """One stored article. Ids come from AUTOINCREMENT and are never reused."""

    __tablename__ = "article"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, sa_type=Id, primary_key=True)
    # The idempotency key: the normalised URL, or "sha256:<hash of title and body>" without one.
    idem_key: str = Field(max_length=2100, unique=True)
    url: str | None = Field(default=None, max_length=2048)
    title: str = Field(sa_column=Column(Text, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    published_at: str | None = Field(default=None, max_length=40)
    published_precision: str | None = Field(default=None, max_length=10)
    # The instants the (possibly partial) date covers, in naive UTC, for filters and sorting.
    published_start: datetime | None = Field(default=None, index=True)
    published_end: datetime | None = Field(default=None)
    language: str = Field(max_length=8, index=True)
    source: str | None = Field(default=None, max_length=300)
    source_key: str | None = Field(default=None, max_length=300, index=True)
    author: str | None = Field(default=None, max_length=300)
    section: str | None = Field(default=None, max_length=300)
    photo_credit: str | None = Field(default=None, max_length=300)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Latin spellings of the article's Cyrillic and Greek words, read by PostgreSQL search
    # (migration 0003); derived from the title and body, never returned by the API.
    transliteration: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime
    updated_at: datetime


class IndexOutbox(SQLModel, table=True):
    """ "Index this article again": written in the same transaction as the article itself."""

    __tablename__ = "index_outbox"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, sa_type=Id, primary_key=True)
    article_id: int = Field(sa_type=Id, index=True)
    created_at: datetime
