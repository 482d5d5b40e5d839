"""The columnar answers of the prediction API (format=columns, Parquet) against its default answer.

A real uvicorn server on a free loopback port (``test_api.Server``), models trained from the bundled
samples: a binary and a three-class classifier and a regressor.  A columnar answer holds the same
numbers as the default one, row for row, under batch scoring's column names.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from core.data import datasets
from core.models import registry
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.serve.loaded import load_model
from core.serve.outputs import score_frame
from core.serve.validation import validate_and_coerce
from tests.integration.test_api import Server, _json_rows
from tests.support.models import copy_home, template_home, train_sample

SAMPLES = {"titanic": "survived", "penguins": "species", "mpg": "Miles_per_Gallon"}
NAMES = {sample: registry.default_model_name(sample, target) for sample, target in SAMPLES.items()}
PARQUET = "application/vnd.apache.parquet"


def _build(ws: Workspace) -> None:
    for sample in SAMPLES:
        [version] = train_sample(ws, sample, ["lightgbm"])
        registry.promote(ws, version.name, version.version)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    template = template_home(tmp_path_factory.mktemp("api-columns"), _build)
    ws = Workspace.open(Settings(home=copy_home(template, tmp_path_factory.mktemp("home") / "home"),
                                 serve_refresh_ms=100))
    server = Server(ws)
    yield server
    server.close()
    ws.db.dispose()


def _rows(ws: Workspace, sample: str, n: int = 60) -> pd.DataFrame:
    version = datasets.get_version(ws, sample)
    frame = datasets.load_frame(ws, version).sample(n, random_state=1).reset_index(drop=True)
    return frame.drop(columns=[version.target])


def _post(server: Server, sample: str, rows: pd.DataFrame, query: str = "", **headers: str):
    return server.client.post(f"/v1/models/{NAMES[sample]}/predict{query}", headers=headers,
                              json={"dataframe_records": _json_rows(rows)})


def _default_as_columns(answer: dict, classes: list[str]) -> dict[str, list]:
    predictions = answer["predictions"]
    out = {"prediction": [p["prediction"] for p in predictions]}
    for label in classes:
        out[f"probability_{label}"] = [p["probabilities"][label] for p in predictions]
    return out


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_columnar_answers_hold_the_default_answers_numbers_row_for_row(server, sample):
    rows = _rows(server.ws, sample)
    default = _post(server, sample, rows)
    assert default.status_code == 200, default.text
    first = default.json()["predictions"][0]
    classes = list(first.get("probabilities", {}))
    expected = _default_as_columns(default.json(), classes)
    batch = score_frame(model := load_model(server.ws, NAMES[sample]), validate_and_coerce(model.reference, rows)[1])
    assert list(expected) == list(batch.columns)  # batch scoring's output names

    columns = _post(server, sample, rows, "?format=columns")
    assert columns.status_code == 200, columns.text
    body = columns.json()
    assert (body["model"], body["version"], body["rows"]) == (NAMES[sample], 1, len(rows))
    assert body["columns"] == list(batch.columns)
    assert body["predictions"] == expected  # the same JSON values: exactly the same numbers

    for query, headers in (("", {"Accept": PARQUET}), ("?format=parquet", {}),
                           ("?format=parquet", {"Accept": f"{PARQUET}, application/json;q=0.5"})):
        answer = _post(server, sample, rows, query, **headers)
        assert answer.status_code == 200, (query, headers, answer.text)
        assert answer.headers["content-type"] == PARQUET
        assert answer.headers["x-atelier-model"] == NAMES[sample]
        assert answer.headers["x-atelier-model-version"] == "1"
        table = pq.read_table(io.BytesIO(answer.content))
        assert table.column_names == list(batch.columns)
        assert table.to_pydict() == expected
        # and the types of batch scoring's own output (a label is a label, a probability a float64)
        assert table.schema.types == [field.type for field in _batch_schema(batch)]


def _batch_schema(batch: pd.DataFrame):
    import pyarrow as pa

    return pa.Table.from_pandas(batch.reset_index(drop=True), preserve_index=False).schema


def test_columnar_answer_with_contributions_matches_the_default_rows(server):
    rows = _rows(server.ws, "titanic", 8)
    default = _post(server, "titanic", rows, "?explain=top2").json()["predictions"]
    columns = _post(server, "titanic", rows, "?explain=top2&format=columns").json()["predictions"]
    assert [c for c in columns if c.startswith(("feature_", "contribution_"))] == [
        "feature_1", "contribution_1", "feature_2", "contribution_2"]
    for i, row in enumerate(default):
        assert row["contributions"] == {columns[f"feature_{j}"][i]: columns[f"contribution_{j}"][i] for j in (1, 2)}
        assert row["base_value"] == columns["base_value"][i]
        assert row["explained_class"] == columns["explained_class"][i]


@pytest.mark.parametrize(("accept", "kind"), [
    ("application/json", "records"), ("*/*", "records"), ("text/html,application/xhtml+xml,*/*;q=0.8", "records"),
    (f"{PARQUET};q=0.5, application/json", "records"), (f"application/json;q=0.2, {PARQUET}", "parquet"),
    (f"*/*, {PARQUET}", "parquet"),  # an exact type before a wildcard of the same weight
])
def test_the_accept_header_picks_the_answer(server, accept, kind):
    answer = _post(server, "titanic", _rows(server.ws, "titanic", 3), Accept=accept)
    assert answer.status_code == 200, answer.text
    if kind == "records":
        assert answer.headers["content-type"] == "application/json"
        assert len(answer.json()["predictions"]) == 3
    else:
        assert answer.headers["content-type"] == PARQUET
        assert pq.read_table(io.BytesIO(answer.content)).num_rows == 3


@pytest.mark.parametrize(("query", "accept", "status", "match"), [
    ("", "text/csv", 406, "The Accept header ('text/csv') allows no type this route answers in: "
                          "application/json or application/vnd.apache.parquet."),
    ("", "application/json;q=nope", 406, "allows no type this route answers in"),
    ("", f"application/json;q=0, {PARQUET};q=0", 406, "allows no type this route answers in"),
    ("?format=parquet", "application/json", 406, "format=parquet answers in application/vnd.apache.parquet, "
                                                 "which the Accept header ('application/json') does not allow."),
    ("?format=columns", PARQUET, 406, "format=columns answers in application/json, which the Accept header"),
    ("?format=csv", None, 400, "format must be one of records, columns, parquet; got 'csv'."),
])
def test_an_answer_the_client_cannot_take_is_refused_before_scoring(server, query, accept, status, match):
    headers = {"Accept": accept} if accept else {}
    answer = _post(server, "titanic", _rows(server.ws, "titanic", 3), query, **headers)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"  # errors are JSON, whatever was asked
    assert match in answer.json()["error"]
    if status == 406:
        assert "Send Accept: application/json" in answer.json()["hint"]


@pytest.mark.parametrize(("query", "accept"), [("?format=columns", None), ("?format=parquet", None),
                                               ("", PARQUET)])
def test_a_bad_body_gets_the_same_422_report_in_any_format(server, query, accept):
    bad = _json_rows(_rows(server.ws, "titanic", 20).drop(columns=["age"]))
    for r in bad[:5]:
        r["fare"] = "not a number"
    body = {"dataframe_records": bad}
    url = f"/v1/models/{NAMES['titanic']}/predict"
    default = server.client.post(url, json=body)
    assert default.status_code == 422
    answer = server.client.post(url + query, json=body, headers={"Accept": accept} if accept else {})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == default.json()
    kinds = {(i["column"], i["kind"]) for i in answer.json()["report"]["issues"]}
    assert {("age", "missing_column"), ("fare", "type_not_coercible")} <= kinds


def test_columnar_answers_are_counted_as_the_default_ones(server):
    rows = _rows(server.ws, "mpg", 25)
    name = NAMES["mpg"]
    before = _traffic(server, name)
    assert _post(server, "mpg", rows, "?format=columns").status_code == 200
    assert _post(server, "mpg", rows, "?format=parquet").status_code == 200
    after = _wait_traffic(server, name, before["requests"] + 2)
    assert after["rows"] == before["rows"] + 50
    scores = _post(server, "mpg", rows, "?format=columns").json()["predictions"]["prediction"]
    assert np.isfinite(scores).all()


def _traffic(server: Server, name: str) -> dict:
    found = [t for t in server.client.get(f"/v1/models/{name}").json()["traffic"] if t["role"] == "production"]
    return found[0] if found else {"requests": 0, "rows": 0}


def _wait_traffic(server: Server, name: str, requests: int) -> dict:
    import time

    deadline = time.monotonic() + 10
    while (found := _traffic(server, name))["requests"] < requests:  # counted once the answer has gone
        assert time.monotonic() < deadline, found
        time.sleep(0.02)
    return found


def test_the_openapi_document_describes_the_answer_formats(server):
    doc = server.client.get("/openapi.json").json()
    post = doc["paths"]["/v1/models/{name}/predict"]["post"]
    assert {p["name"] for p in post["parameters"]} >= {"format", "explain"}
    assert set(post["responses"]["200"]["content"]) == {"application/json", PARQUET}
    assert "406" in post["responses"]
