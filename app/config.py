"""Settings, read once from the environment (`NEWSDESK_*`) and passed to the app factory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob of the service; tests build `Settings(data_dir=tmp_path)` directly."""

    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = None
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = 50 * 1024 * 1024
    sample_dir: Path = PROJECT_ROOT / "data" / "sample"

    bulk_max_items: int = 10_000
    query_max_chars: int = 500
    query_max_terms: int = 32
    search_time_limit: float = 0.5
    max_page_size: int = 100
    max_result_depth: int = 10_000

    # "process": the index writer runs in a child process with a core of its own (the default);
    # "thread": inside the serving process (lighter, for tests and tiny deployments).
    indexer: Literal["process", "thread"] = "process"
    index_batch_size: int = 500
    index_poll_seconds: float = 0.25
    refresh_wait_seconds: float = 10.0
    # Past this many articles waiting for the indexer, writes get 503 with Retry-After.
    max_pending: int = 100_000

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value

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
