"""A table of bad requests: each gets its 4xx problem+json and stores nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_client

J = {"content-type": "application/json"}
NDJSON = {"content-type": "application/x-ndjson"}
TEXT = {"content-type": "text/plain"}
OK = {"body": "Un texte valable."}

CASES: list[tuple[str, str, str, dict[str, Any], int]] = [
    # (id, method, path, request keyword arguments, expected status)
    ("invalid-json", "POST", "/v1/articles", {"content": b"{body:", "headers": J}, 422),
    ("truncated-json", "POST", "/v1/articles", {"content": b'{"body": "x"', "headers": J}, 422),
    ("invalid-utf8", "POST", "/v1/articles", {"content": b'{"body": "\xff"}', "headers": J}, 400),
    ("nul-byte", "POST", "/v1/articles", {"json": {"body": "a\u0000b"}}, 422),
    ("control-char", "POST", "/v1/articles", {"json": {"body": "a\u0007b"}}, 422),
    ("wrong-content-type", "POST", "/v1/articles", {"content": b"body=x", "headers": TEXT}, 422),
    ("bulk-wrong-type", "POST", "/v1/articles/bulk", {"content": b"x", "headers": TEXT}, 415),
    ("raw-wrong-type", "POST", "/v1/articles/raw", {"content": b"{}", "headers": J}, 415),
    ("extra-field", "POST", "/v1/articles", {"json": {**OK, "colour": "red"}}, 422),
    ("read-only-id", "POST", "/v1/articles", {"json": {**OK, "id": 7}}, 422),
    (
        "read-only-created",
        "POST",
        "/v1/articles",
        {"json": {**OK, "created_at": "2020-01-01T00:00:00Z"}},
        422,
    ),
    ("body-wrong-type", "POST", "/v1/articles", {"json": {"body": 42}}, 422),
    ("tags-wrong-type", "POST", "/v1/articles", {"json": {**OK, "tags": "a,b"}}, 422),
    ("not-an-object", "POST", "/v1/articles", {"json": ["x"]}, 422),
    ("date-month-13", "POST", "/v1/articles", {"json": {**OK, "published_at": "2023-13"}}, 422),
    ("date-feb-30", "POST", "/v1/articles", {"json": {**OK, "published_at": "2023-02-30"}}, 422),
    ("date-zero", "POST", "/v1/articles", {"json": {**OK, "published_at": "0000-00"}}, 422),
    ("date-year-10000", "POST", "/v1/articles", {"json": {**OK, "published_at": "10000"}}, 422),
    ("date-yesterday", "POST", "/v1/articles", {"json": {**OK, "published_at": "yesterday"}}, 422),
    ("url-javascript", "POST", "/v1/articles", {"json": {**OK, "url": "javascript:alert(1)"}}, 422),
    ("url-file", "POST", "/v1/articles", {"json": {**OK, "url": "file:///etc/passwd"}}, 422),
    ("url-control", "POST", "/v1/articles", {"json": {**OK, "url": "https://a.org/\u0001"}}, 422),
    (
        "url-2049",
        "POST",
        "/v1/articles",
        {"json": {**OK, "url": "https://example.org/" + "a" * 2030}},
        422,
    ),
    ("empty-body", "POST", "/v1/articles", {"json": {"body": ""}}, 422),
    ("blank-body", "POST", "/v1/articles", {"json": {"body": " \n\t "}}, 422),
    ("blank-title", "POST", "/v1/articles", {"json": {**OK, "title": "   "}}, 422),
    ("long-title", "POST", "/v1/articles", {"json": {**OK, "title": "t" * 1001}}, 422),
    ("long-source", "POST", "/v1/articles", {"json": {**OK, "source": "s" * 301}}, 422),
    ("long-body", "POST", "/v1/articles", {"json": {"body": "b" * (1024 * 1024 + 1)}}, 422),
    ("bad-language", "POST", "/v1/articles", {"json": {**OK, "language": "français"}}, 422),
    ("bulk-not-array", "POST", "/v1/articles/bulk", {"json": 5}, 422),
    ("bulk-object", "POST", "/v1/articles/bulk", {"json": OK}, 422),
    ("bulk-empty", "POST", "/v1/articles/bulk", {"json": []}, 422),
    ("bulk-scalar-item", "POST", "/v1/articles/bulk", {"json": [OK, 3]}, 422),
    (
        "ndjson-array-line",
        "POST",
        "/v1/articles/bulk",
        {"content": b"[1]\n", "headers": NDJSON},
        422,
    ),
    (
        "bulk-deep-json",
        "POST",
        "/v1/articles/bulk",
        {"content": b"[" * 5000 + b"]" * 5000, "headers": J},
        400,
    ),
    (
        "deep-json",
        "POST",
        "/v1/articles",
        {"content": b'{"body": "x", "tags": ' + b"[" * 40 + b"]" * 40 + b"}", "headers": J},
        400,
    ),
    (
        "deep-ndjson",
        "POST",
        "/v1/articles/bulk",
        {"content": b'{"body": "x", "tags": ' + b"[" * 40 + b"]" * 40 + b"}\n", "headers": NDJSON},
        400,
    ),
    ("raw-empty", "POST", "/v1/articles/raw", {"content": b"", "headers": TEXT}, 422),
    ("raw-bad-utf8", "POST", "/v1/articles/raw", {"content": b"\xc3\x28", "headers": TEXT}, 422),
    (
        "raw-bad-url",
        "POST",
        "/v1/articles/raw?url=file:///x",
        {"content": b"texte", "headers": TEXT},
        422,
    ),
    (
        "raw-files-bad-language",
        "POST",
        "/v1/articles/raw?language=",
        {"files": {"files": ("a.txt", b"date 2023-09\n\nUn texte.")}},
        422,
    ),
    ("put-missing", "PUT", "/v1/articles/999", {"json": OK}, 404),
    ("put-invalid", "PUT", "/v1/articles/1", {"json": {"body": ""}}, 422),
    ("delete-missing", "DELETE", "/v1/articles/999", {}, 404),
    ("id-not-int", "GET", "/v1/articles/abc", {}, 404),
    ("id-zero", "GET", "/v1/articles/0", {}, 422),
    ("id-huge", "GET", "/v1/articles/" + "9" * 30, {}, 422),
    ("q-empty", "GET", "/v1/search?q=", {}, 422),
    ("q-empty", "GET", "/v1/search", {"params": {"q": ""}}, 422),
    ("q-501", "GET", "/v1/search?q=" + "a" * 501, {}, 400),
    ("q-33-terms", "GET", "/v1/search?q=" + "+".join(["mot"] * 33), {}, 400),
    ("q-10k", "GET", "/v1/search?q=" + "a" * 10_000, {}, 400),
    ("q-60k", "GET", "/v1/search?q=" + "mot+" * 15_000, {}, 400),  # httpx caps URLs at 64 KiB
    ("q-one-letter-prefix", "GET", "/v1/search?q=a*", {}, 400),
    ("q-leading-wildcard", "GET", "/v1/search?q=*ption", {}, 400),
    ("q-five-prefixes", "GET", "/v1/search?q=ab*+cd*+ef*+gh*+ij*", {}, 400),
    ("q-fuzzy-short", "GET", "/v1/search?q=ab~", {}, 400),
    ("q-wildcards", "GET", "/v1/search?q=*%3F*%3F*", {}, 400),
    ("q-star", "GET", "/v1/search?q=*", {}, 400),
    ("q-fuzzy-999", "GET", "/v1/search?q=obus~999", {}, 400),
    ("q-deep-parens", "GET", "/v1/search?q=" + "(" * 300 + "a" + ")" * 300, {}, 400),
    ("q-title-open", "GET", "/v1/search?q=title:(", {}, 400),
    ("q-unclosed", "GET", '/v1/search?q="unclosed', {}, 400),
    ("q-internal-field", "GET", "/v1/search?q=spell:a", {}, 400),
    ("page-zero", "GET", "/v1/search?q=a&page=0", {}, 422),
    ("page-negative", "GET", "/v1/search?q=a&page=-1", {}, 422),
    ("page-text", "GET", "/v1/search?q=a&page=two", {}, 422),
    ("page-size-101", "GET", "/v1/search?q=a&page_size=101", {}, 422),
    ("page-size-zero", "GET", "/v1/search?q=a&page_size=0", {}, 422),
    ("too-deep", "GET", "/v1/search?q=a&page=200&page_size=100", {}, 422),
    ("from-after-to", "GET", "/v1/search?q=a&from=2024&to=2023", {}, 400),
    ("bad-from", "GET", "/v1/articles?from=2023-13", {}, 422),
    ("source-control", "GET", "/v1/search?q=a&source=%00", {}, 422),
    # PostgreSQL refuses NUL in text: refused up front on both backends
    ("q-nul", "GET", "/v1/search?q=missile%00", {}, 422),
    ("q-control", "GET", "/v1/search?q=a%07b", {}, 422),
    ("language-nul", "GET", "/v1/articles?language=f%00", {}, 422),
    ("language-blank", "GET", "/v1/search?q=a&language=%20", {}, 422),
    ("bad-sort", "GET", "/v1/articles?sort=best", {}, 422),
    ("method-not-allowed", "PATCH", "/v1/articles", {"json": OK}, 405),
    ("unknown-path", "GET", "/v1/nothing", {}, 404),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_client(tmp_path_factory.mktemp("bad")) as client:
        made = client.post(
            "/v1/articles",
            params={"refresh": "wait"},
            json={"body": "Un article qui reste.", "language": "fr"},
        )
        assert made.status_code == 201 and made.json()["id"] == 1
        yield client


def _counts(client: TestClient) -> tuple[int, int]:
    health = client.get("/health").json()
    return health["store"]["articles"], health["index"]["documents"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_request_is_a_clear_4xx_and_changes_nothing(
    seeded: TestClient, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    before = _counts(seeded)
    response = seeded.request(method, path, **kwargs)
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem.get("detail")
    assert "Traceback" not in response.text and "sqlalchemy" not in response.text.lower()
    assert _counts(seeded) == before
    assert seeded.get("/v1/articles/1").json()["body"] == "Un article qui reste."


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 40


def test_the_largest_ids_are_not_found(client: TestClient) -> None:
    """Ids up to 2**62 - 1 are valid: they are looked up and not found (64-bit on both stores)."""
    largest = 2**62 - 1
    assert client.get(f"/v1/articles/{largest}").status_code == 404
    assert client.get(f"/v1/articles/{largest}/similar").status_code == 404
    assert client.delete(f"/v1/articles/{largest}").status_code == 404
    replaced = client.put(f"/v1/articles/{largest}", json={"body": "Texte."})
    assert replaced.status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("post", "/v1/articles", "application/json"),
        ("put", "/v1/articles/1", "application/json"),
        ("post", "/v1/articles/bulk", "application/json"),
    ],
)
def test_invalid_json_says_where_in_words(
    client: TestClient, method: str, path: str, content_type: str
) -> None:
    body = '{"title": "Corée",\n "body": oops}'
    if path.endswith("bulk"):
        body = f"[{body}]"
    answer = client.request(
        method, path, content=body.encode(), headers={"Content-Type": content_type}
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    detail = answer.json()["detail"]
    assert detail.startswith("the body is not valid JSON") and "line 2" in detail, detail
    assert "column 10" in detail, detail
    assert "body." not in detail


def test_a_single_valued_parameter_given_twice_is_refused(client: TestClient) -> None:
    for path in ("/v1/search?q=corée&q=russie", "/v1/articles?sort=newest&sort=oldest"):
        refused = client.get(path)
        assert refused.status_code == 422, path
        assert "more than once" in refused.json()["detail"]
    raw = client.post(
        "/v1/articles/raw?source=a&source=b",
        content=b"Un texte brut.",
        headers={"Content-Type": "text/plain"},
    )
    assert raw.status_code == 422 and client.get("/v1/articles").json()["total"] == 0
    # parameters that take several values may repeat; undeclared ones are ignored
    assert client.get("/v1/analyze?text=la&language=fr&language=en").status_code == 200
    assert client.get("/v1/articles?language=fr&language=en").status_code == 200
    assert client.get("/health?probe=1&probe=2").status_code == 200
