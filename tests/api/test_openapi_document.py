"""The OpenAPI document explains itself and says exactly what the server accepts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_client

BAD_DATE = "septembre 2023"
ARTICLE = {"title": "La Corée du Nord tire un missile", "body": "Pyongyang a tiré un missile."}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_client(tmp_path_factory.mktemp("openapi")) as c:
        yield c


@pytest.fixture(scope="module")
def spec(client: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def _parameter(spec: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    for parameter in spec["paths"][path]["get"]["parameters"]:
        if parameter["name"] == name:
            found: dict[str, Any] = parameter
            return found
    raise AssertionError(f"{path} has no parameter {name}")


def _models(spec: dict[str, Any], *names: str) -> set[str]:
    """The named component schemas and every one they refer to."""
    schemas = spec["components"]["schemas"]
    found: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            refs = re.findall(r"#/components/schemas/(\w+)", repr(schemas[name]))
            todo.extend(refs)
    return found


def test_every_field_of_articles_and_search_results_is_described_with_an_example(
    spec: dict[str, Any],
) -> None:
    models = _models(spec, "ArticlePublic", "ArticleCreate", "ArticlePatch", "SearchResponse")
    assert {"SearchHit", "SearchFacets"} <= models
    for model in sorted(models):
        for name, field in spec["components"]["schemas"][model]["properties"].items():
            assert field.get("description", "").strip(), f"{model}.{name} has no description"
            assert field.get("examples"), f"{model}.{name} has no example"


def test_q_has_examples_and_links_to_the_query_syntax(
    client: TestClient, spec: dict[str, Any]
) -> None:
    q = _parameter(spec, "/v1/search", "q")
    examples = [example["value"] for example in q.get("examples", {}).values()]
    assert "la Corée du Nord" in examples
    for example in examples:  # each one a query that runs
        assert client.get("/v1/search", params={"q": example}).status_code == 200, example
    link = re.search(r"\]\((/redoc#section/[^)]+)\)", q["description"])
    assert link, q["description"]
    # ReDoc anchors a heading of info.description as `section/` and its words joined by `-`.
    headings = re.findall(r"^#{1,2} (.+)$", spec["info"]["description"], re.MULTILINE)
    anchors = {"/redoc#section/" + "-".join(heading.split()) for heading in headings}
    assert link.group(1) in anchors, (link.group(1), headings)
    syntax = spec["info"]["description"].split("## Query syntax", 1)[1]
    for operator in (" OR ", " NOT ", " -", "*`", "~`", "title:", "« "):
        assert operator in syntax, operator


@pytest.mark.parametrize(
    ("keys", "authorize", "says"),
    [
        ({}, False, "no API keys configured"),
        ({"api_keys": ["w"]}, True, "Writes"),
        ({"api_keys": ["w"], "read_keys": ["r"]}, True, "read key"),
    ],
)
def test_the_description_shows_the_authorize_button_only_when_the_page_has_one(
    tmp_path: Path, keys: dict[str, list[str]], authorize: bool, says: str
) -> None:
    with make_client(tmp_path, **keys) as keyed:
        document = keyed.get("/openapi.json").json()
    description = document["info"]["description"]
    # Swagger UI shows the Authorize button when the document declares a security scheme.
    assert ("securitySchemes" in document.get("components", {})) is authorize
    assert ("Authorize" in description) is authorize
    assert says in description


# A request that each operation with a 422 refuses, and the answer its example must be.
INVALID_REQUESTS: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/v1/search"): {"params": {"q": "la Corée du Nord", "from": BAD_DATE}},
    ("get", "/v1/articles"): {"params": {"from": BAD_DATE}},
    ("post", "/v1/articles"): {"json": {**ARTICLE, "published_at": BAD_DATE}},
    ("put", "/v1/articles/{article_id}"): {"json": {**ARTICLE, "published_at": BAD_DATE}},
    ("patch", "/v1/articles/{article_id}"): {"json": {"published_at": BAD_DATE}},
    ("post", "/v1/articles/bulk"): {"json": ARTICLE},
    ("post", "/v1/articles/raw"): {
        "params": {"published_at": BAD_DATE},
        "content": "Pyongyang a tiré un missile.",
        "headers": {"content-type": "text/plain"},
    },
    ("get", "/v1/analyze"): {},
    ("delete", "/v1/articles/{article_id}"): {"id": 0},
    ("get", "/v1/articles/{article_id}"): {"id": 0},
    ("get", "/v1/articles/{article_id}/similar"): {"id": 0},
}


def _invalid_example(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    response = spec["paths"][path][method]["responses"]["422"]
    example: dict[str, Any] = response["content"]["application/problem+json"]["example"]
    return example


def test_a_search_shows_a_search_error_as_its_422(spec: dict[str, Any]) -> None:
    example = _invalid_example(spec, "get", "/v1/search")
    assert "body" not in example["detail"]
    assert "from" in example["detail"]
    assert [error["loc"] for error in example["errors"]] == [["query", "from"]]


def test_each_422_example_is_what_the_server_answers(
    client: TestClient, spec: dict[str, Any]
) -> None:
    with_422 = {
        (method, path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "422" in operation["responses"]
    }
    assert with_422 == set(INVALID_REQUESTS)
    article_id = client.post("/v1/articles", json=ARTICLE).json()["id"]
    for (method, path), request in INVALID_REQUESTS.items():
        kwargs = dict(request)
        url = path.replace("{article_id}", str(kwargs.pop("id", article_id)))
        answer = client.request(method.upper(), url, **kwargs)
        assert answer.status_code == 422, (method, path, answer.text)
        assert answer.json() == _invalid_example(spec, method, path), (method, path)


ACCEPTED = ["2023", "2023-09", "2023-09-07", "2023-09-07T10:00:00+02:00", "2024-02-29"]
REFUSED = ["", "000000", "2023-13", "2023-00", "0000", "2023-02-29", "2023-04-31", "someday"]


def _date_schemas(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for model in ("ArticleCreate", "ArticlePatch"):
        field = spec["components"]["schemas"][model]["properties"]["published_at"]
        yield f"{model}.published_at", next(s for s in field["anyOf"] if s["type"] == "string")
    for path, name in (
        ("/v1/search", "from"),
        ("/v1/search", "to"),
        ("/v1/articles", "from"),
        ("/v1/articles", "to"),
    ):
        yield f"{path} {name}", _parameter(spec, path, name)["schema"]


def test_the_date_pattern_says_what_the_server_accepts(
    client: TestClient, spec: dict[str, Any]
) -> None:
    for where, schema in _date_schemas(spec):
        assert schema["minLength"] == 1, where
        pattern = re.compile(schema["pattern"])
        for value in ACCEPTED:
            assert pattern.search(value), (where, value)
        for value in REFUSED:
            assert not pattern.search(value), (where, value)
    for value in ACCEPTED:
        assert client.get("/v1/search", params={"from": value}).status_code == 200, value
    for value in REFUSED:
        assert client.get("/v1/search", params={"from": value}).status_code == 422, value


def test_date_parameters_say_what_they_take(spec: dict[str, Any]) -> None:
    for path, name in (("/v1/search", "from"), ("/v1/search", "to"), ("/v1/articles", "to")):
        parameter = _parameter(spec, path, name)
        assert "2023-09-07" in parameter["description"], (path, name)
        assert parameter["schema"]["examples"], (path, name)
