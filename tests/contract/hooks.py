"""Schemathesis hooks: how to make valid values of the OpenAPI document's own string formats.

The document names formats JSON Schema cannot spell out (`partial-date`, `http-url`,
`search-query`, `raw-article`, `ndjson-articles`); these strategies generate values of them, so
that schemathesis's `positive_data_acceptance` check can hold the API to accepting them. Two
rule spans two parameters and is filtered here: `from` is not after `to`.

Loaded by `SCHEMATHESIS_HOOKS=tests.contract.hooks` (see test_schemathesis.py).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import schemathesis
from hypothesis import strategies as st

from app.ingest.dates import parse_partial_date

# Text without control characters (tab and newline allowed) and with a visible character.
_CHARS = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), include_characters="\t\n")
_VISIBLE = st.text(_CHARS, max_size=60).flatmap(
    lambda text: st.sampled_from("aéZ9«ж한").map(lambda mark: text + mark)
)

_dates = st.dates().map(lambda d: d.isoformat())
_datetimes = st.builds(
    lambda moment, zone: moment.isoformat(timespec="seconds") + zone,
    st.datetimes(min_value=datetime(1900, 1, 1)),
    st.sampled_from(["", "Z", "+02:00", "-05:30"]),
)
PARTIAL_DATE = st.one_of(
    _dates.map(lambda d: d[:4]), _dates.map(lambda d: d[:7]), _dates, _datetimes
)

_host = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?(\.[a-z]{2,6}){1,2}", fullmatch=True)
_path = st.text(
    st.one_of(st.characters(categories=("L", "N")), st.sampled_from("/-_.~%=&?")), max_size=40
)
HTTP_URL = st.builds(
    lambda scheme, host, port, path, fragment: f"{scheme}://{host}{port}/{path}{fragment}",
    st.sampled_from(["http", "https", "HTTPS"]),
    _host,
    st.sampled_from(["", ":8080"]),
    _path,
    st.sampled_from(["", "#top"]),
)

_word = st.text(st.characters(categories=("Ll", "Lu", "Lo")), min_size=1, max_size=10).filter(
    lambda w: w.upper() not in {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"}
)
_term = st.one_of(
    _word,
    _word.filter(lambda w: len(w) >= 2).map(lambda w: w + "*"),
    _word.filter(lambda w: len(w) >= 3).map(lambda w: w + "~"),
    st.lists(_word, min_size=2, max_size=3).map(lambda ws: '"' + " ".join(ws) + '"'),
    _word.map(lambda w: "title:" + w),
    _word.map(lambda w: "-" + w),
)
SEARCH_QUERY = st.lists(_term, min_size=1, max_size=4).map(" ".join)

RAW_ARTICLE = st.builds(
    lambda date, credit, body: f"date {date} Photo : {credit}\n\n{body}",
    _dates.map(lambda d: d[:7]),
    st.sampled_from(["YONHAP News", "AFP"]),
    _VISIBLE,
)

_article = st.fixed_dictionaries(
    {"body": _VISIBLE},
    optional={"title": _VISIBLE, "language": st.sampled_from(["fr", "en", "ko"])},
)
NDJSON_ARTICLES = st.lists(_article, min_size=1, max_size=3).map(
    lambda items: "".join(json.dumps(item) + "\n" for item in items)
)

schemathesis.openapi.format("partial-date", PARTIAL_DATE)
schemathesis.openapi.format("http-url", HTTP_URL)
schemathesis.openapi.format("search-query", SEARCH_QUERY)
schemathesis.openapi.format("raw-article", RAW_ARTICLE)
schemathesis.openapi.format("ndjson-articles", NDJSON_ARTICLES)


@schemathesis.serializer("application/x-ndjson")
def _ndjson(context: Any, value: Any) -> bytes:
    """NDJSON text goes on the wire as it is.

    A value that is no text (a negative case: the schema says string) has no NDJSON form; it is
    sent as one JSON array line, which no NDJSON stream of articles is, so the API must refuse it.
    """
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return json.dumps([value]).encode()


def _span_ok(query: dict[str, Any]) -> bool:
    try:
        start = parse_partial_date(str(query["from"]))
        end = parse_partial_date(str(query["to"]))
    except (KeyError, ValueError):
        return True
    return start.start <= end.end


@schemathesis.hook
def filter_query(context: Any, query: dict[str, Any] | None) -> bool:
    """Leave out `from` after `to`: the API refuses it (400), which no schema can say."""
    return query is None or _span_ok(query)
