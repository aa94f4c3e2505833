"""How Newsdesk's processes log: one format, and Uvicorn's configuration to match it."""

from __future__ import annotations

import copy
from typing import Any

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def uvicorn_log_config() -> dict[str, Any]:
    """Uvicorn's logging dict, which its worker processes apply, with Newsdesk's loggers in it."""
    import uvicorn

    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    # Newsdesk's logs get their own handler, with the time, and no propagation: the root
    # logger printed them a second time.
    config["formatters"]["newsdesk"] = {"format": LOG_FORMAT}
    config["handlers"]["newsdesk"] = {
        "class": "logging.StreamHandler",
        "formatter": "newsdesk",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["newsdesk"] = {
        "handlers": ["newsdesk"],
        "level": "INFO",
        "propagate": False,
    }
    # Alembic tells its dialect at every connection and each revision's title (PostgreSQL's
    # on SQLite too); the store says in one line when its schema changes (app/store/db.py).
    config["loggers"]["alembic"] = {"level": "WARNING"}
    # Uvicorn's four start lines say less than `newsdesk serve`'s one; its errors still show.
    config["loggers"]["uvicorn.error"] = {"level": "WARNING"}
    return config
