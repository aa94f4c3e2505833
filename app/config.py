"""Settings, read once from the environment (`NEWSDESK_*`) and passed to the app factory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from limits import parse_many
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# An installed wheel carries migrations/ and data/sample/ inside the package (pyproject.toml maps
# them there); a checkout, or an editable install of one, has them beside app/.
_BUNDLED = Path(__file__).resolve().parent / "bundled"
MIGRATIONS_DIR = _BUNDLED / "migrations" if _BUNDLED.is_dir() else PROJECT_ROOT / "migrations"
SAMPLE_DIR = _BUNDLED / "sample" if _BUNDLED.is_dir() else PROJECT_ROOT / "data" / "sample"
# Clients the rate limit can leave uncounted (NEWSDESK_RATE_LIMIT_EXEMPT).
Exemption = Literal["loopback", "keys"]
EXEMPTIONS: tuple[Exemption, ...] = ("loopback", "keys")


class Settings(BaseSettings):
    """Every knob of the service; tests build `Settings(data_dir=tmp_path)` directly."""

    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", extra="ignore")

    data_dir: Path = Path("./data")
    # SQLite in DATA_DIR by default; postgresql://… (or postgresql+psycopg://…) for PostgreSQL.
    database_url: str | None = None
    # A streaming replica of that PostgreSQL database: searches and reads go there.
    database_read_url: str | None = None
    # At start, how long to wait for a PostgreSQL that does not accept connections yet (one
    # starting beside the API, or restarting) before giving up.
    database_wait_seconds: float = Field(default=60.0, ge=0)
    # "whoosh": the index in DATA_DIR/index (one machine); "postgres": PostgreSQL's full-text
    # search in the store itself, which any number of API replicas share.
    search_backend: Literal["whoosh", "postgres"] = "whoosh"
    # Keys with write scope (they read too); without any, writes are open on loopback only.
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Keys with read scope only; once any is set, reads (/v1/...) need a key too.
    read_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Origins allowed to call the API from a browser (CORS); none by default.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Per key (or per client address without one), in the `limits` notation; empty turns it off.
    rate_limit: str = "20/second;600/minute"
    # Who is never counted: `loopback` (scripts on the server's own machine; behind a reverse
    # proxy on the same host every client looks local, so drop it there) and `keys` (clients
    # with a configured key). Empty: everyone is counted.
    rate_limit_exempt: Annotated[list[Exemption], NoDecode] = Field(
        default_factory=lambda: list(EXEMPTIONS)
    )
    # Where the counters live: memory:// (per process) or e.g. redis://host:6379 (shared).
    rate_limit_storage: str = "memory://"

    max_body_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    max_json_depth: int = Field(default=16, ge=2)
    sample_dir: Path = SAMPLE_DIR

    bulk_max_items: int = Field(default=10_000, ge=1)
    query_max_chars: int = Field(default=500, ge=1)
    query_max_terms: int = Field(default=32, ge=1)
    # Prefix (`presid*`) and fuzzy (`obus~`) terms per query: each expands over the dictionary.
    query_max_expansions: int = Field(default=4, ge=0)
    # Seconds a search may spend collecting matches before it returns what it has, `timed_out`.
    search_time_limit: float = Field(default=0.5, ge=0)
    # Result pages kept per server process, by index version (0: none); snippets, 8 per page.
    search_cache_size: int = Field(default=256, ge=0)
    max_page_size: int = Field(default=100, ge=1)
    max_result_depth: int = Field(default=10_000, ge=1)

    # Threads serving the routes of one worker (each keeps a searcher: memory grows with them).
    threads: int = Field(default=8, ge=1)

    # "process": the index writer runs in a child process with a core of its own (the default);
    # "thread": inside the serving process (lighter, for tests and tiny deployments).
    indexer: Literal["process", "thread"] = "process"
    # Articles per index commit when a backlog waits. Each commit makes its articles searchable
    # and shows in /health's `pending` (the sample's 1,992 show progress every 2-4 s, and were
    # searchable sooner in all than in one commit of 2,000); each also writes a segment, which
    # the merge policy of app/search/writer.py folds into larger ones.
    index_batch_size: int = 500
    index_poll_seconds: float = 0.25
    refresh_wait_seconds: float = 10.0
    # Past this many articles waiting for the indexer, writes get 503 with Retry-After.
    max_pending: int = 100_000

    @field_validator("api_keys", "read_keys", "cors_origins", "rate_limit_exempt", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value

    @field_validator("rate_limit")
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        if value.strip():
            parse_many(value)  # raises ValueError naming the bad part
        return value.strip()

    @model_validator(mode="after")
    def _read_keys_need_write_keys(self) -> Settings:
        if self.read_keys and not self.api_keys:
            raise ValueError(
                "NEWSDESK_READ_KEYS is set without NEWSDESK_API_KEYS: reads would need a key "
                "while writes stayed open. Set NEWSDESK_API_KEYS too."
            )
        return self

    @field_validator("database_url", "database_read_url")
    @classmethod
    def _psycopg_driver(cls, value: str | None) -> str | None:
        """`postgres://` and `postgresql://`, as platforms hand them out, mean psycopg 3."""
        if not value or not value.strip():
            return None
        value = value.strip()
        for scheme in ("postgres://", "postgresql://"):
            if value.startswith(scheme):
                return "postgresql+psycopg://" + value[len(scheme) :]
        return value

    @model_validator(mode="after")
    def _postgres_features_need_postgres(self) -> Settings:
        on_postgres = (self.database_url or "").startswith("postgresql")
        if self.search_backend == "postgres" and not on_postgres:
            raise ValueError(
                "NEWSDESK_SEARCH_BACKEND=postgres needs NEWSDESK_DATABASE_URL=postgresql://…"
            )
        if self.database_read_url and not on_postgres:
            raise ValueError(
                "NEWSDESK_DATABASE_READ_URL is a PostgreSQL replica: it needs "
                "NEWSDESK_DATABASE_URL=postgresql://… for the primary"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL of the store: the configured one, or SQLite in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'newsdesk.db').resolve()}"

    @property
    def index_dir(self) -> Path:
        """Where the Whoosh index lives."""
        return self.data_dir / "index"
