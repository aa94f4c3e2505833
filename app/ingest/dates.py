"""Partial ISO 8601 dates (`2023`, `2023-09`, `2023-09-07`, datetimes) and the span each covers."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime

_PARTIAL = re.compile(r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?$")


@dataclass(frozen=True)
class PartialDate:
    """A date as precise as its source, with the first and last instants it covers (UTC)."""

    text: str
    precision: str  # year, month, day or datetime
    start: datetime
    end: datetime


def parse_partial_date(value: str) -> PartialDate:
    """Parse a possibly partial ISO 8601 date; raises ValueError with a readable reason."""
    value = value.strip()
    match = _PARTIAL.match(value)
    if match:
        year = int(match["y"])
        if year < 1:
            raise ValueError("year must be between 0001 and 9999")
        if match["m"] is None:
            start = datetime(year, 1, 1, tzinfo=UTC)
            end = datetime(year, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
            return PartialDate(f"{year:04d}", "year", start, end)
        month = int(match["m"])
        if not 1 <= month <= 12:
            raise ValueError(f"month {match['m']} is out of range 01-12")
        last_day = calendar.monthrange(year, month)[1]
        if match["d"] is None:
            start = datetime(year, month, 1, tzinfo=UTC)
            end = datetime(year, month, last_day, 23, 59, 59, 999999, tzinfo=UTC)
            return PartialDate(f"{year:04d}-{month:02d}", "month", start, end)
        day = int(match["d"])
        if not 1 <= day <= last_day:
            raise ValueError(f"day {match['d']} is out of range for {year:04d}-{month:02d}")
        start = datetime(year, month, day, tzinfo=UTC)
        end = datetime(year, month, day, 23, 59, 59, 999999, tzinfo=UTC)
        return PartialDate(start.date().isoformat(), "day", start, end)
    if not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", value):
        raise ValueError(
            "expected an ISO 8601 date: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][±HH:MM]"
        )
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"{value!r} is not a valid ISO 8601 datetime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        instant = moment.astimezone(UTC)
        if instant.year > 9999 or instant.year < 1:
            raise OverflowError
    except OverflowError:
        raise ValueError(f"{value!r} is out of range") from None
    text = moment.isoformat().replace("+00:00", "Z")
    return PartialDate(text, "datetime", instant, instant)
