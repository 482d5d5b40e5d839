"""The prediction API's pieces without a server: bodies as rows, keys, snippets, settings, the resolver."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from core.platform.config import Settings
from core.platform.errors import ConflictError, InvalidInputError, NotFoundError
from core.serve import api_keys
from core.serve.api.payloads import read_rows
from core.serve.deployment import base_url, curl_example, example_row, python_example, serve_command

FEATURES = ["a", "b"]


def _read(payload, tmp_path, content_type="application/json"):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return read_rows(body, content_type, FEATURES, tmp_path)


def test_every_json_format_reads_as_the_same_table(tmp_path):
    expected = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    for payload in ({"dataframe_split": {"columns": ["a", "b"], "data": [[1, "x"], [2, "y"]]}},
                    {"dataframe_records": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]},
                    {"instances": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]},
                    {"inputs": {"a": [1, 2], "b": ["x", "y"]}}):
        rows = _read(payload, tmp_path)
        pd.testing.assert_frame_equal(rows.frame, expected)
        assert rows.columns == ["a", "b"]


def test_a_one_row_body_is_kept_as_a_row(tmp_path):
    for payload in ({"dataframe_split": {"columns": ["a", "b"], "data": [[1, "x"]]}},
                    {"dataframe_records": [{"a": 1, "b": "x"}]}):
        rows = _read(payload, tmp_path)
        assert rows.frame is None and rows.row == {"a": 1, "b": "x"}
    repeated = _read({"dataframe_split": {"columns": ["a", "a"], "data": [[1, 2]]}}, tmp_path)
    assert repeated.row is None and repeated.columns == ["a", "a"]  # a frame, whose checks name the repetition


def test_json_with_nan_as_pandas_writes_it_is_read_and_broken_json_is_refused(tmp_path):
    rows = _read(b'{"dataframe_split": {"columns": ["a", "b"], "data": [[NaN, "x"], [2, "y"]]}}', tmp_path)
    assert rows.frame["a"].isna().tolist() == [True, False]
    with pytest.raises(InvalidInputError, match="The body is not valid JSON"):
        _read(b'{"dataframe_split": {"columns": ["a"', tmp_path)


def test_csv_and_parquet_bodies_read_only_the_model_columns_but_know_all(tmp_path):
    frame = pd.DataFrame({"a": [1.5, 2.5], "b": ["x", "y"], "extra": [0, 0]})
    parquet = io.BytesIO()
    frame.to_parquet(parquet)
    for body, kind in ((frame.to_csv(index=False).encode(), "text/csv; charset=utf-8"),
                       (parquet.getvalue(), "application/vnd.apache.parquet")):
        rows = read_rows(body, kind, FEATURES, tmp_path)
        assert list(rows.frame.columns) == ["a", "b"] and rows.columns == ["a", "b", "extra"]
        assert rows.frame["a"].tolist() == [1.5, 2.5]


@pytest.mark.parametrize(("payload", "match"), [
    ([1, 2], "The JSON body must be an object with one of dataframe_split"),
    ({"dataframe_split": {"columns": "a"}}, "'dataframe_split' must be an object with a 'columns' list"),
    ({"dataframe_split": {"columns": ["a"], "data": [[1]], "index": [1, 2]}}, "The 'index' of 'dataframe_split'"),
    ({"instances": [{"a": 1}], "inputs": {"a": [1]}}, "must hold exactly one of"),
])
def test_malformed_json_bodies_say_what_is_expected(tmp_path, payload, match):
    with pytest.raises(InvalidInputError, match=match):
        _read(payload, tmp_path)


def test_keys_are_stored_hashed_and_named_once(ws):
    created = api_keys.create_key(ws, "  nightly   job ")
    assert created.info.name == "nightly job" and created.key.startswith("atl_")
    assert created.key.startswith(created.info.prefix) and len(created.info.prefix) == 12
    hashes, ever = api_keys.active_hashes(ws)
    assert hashes == {api_keys.hash_key(created.key)} and ever
    assert api_keys.matches(created.key, hashes) and not api_keys.matches(created.key + "x", hashes)
    with pytest.raises(ConflictError, match="An active API key is already named 'nightly job'."):
        api_keys.create_key(ws, "nightly job")
    with pytest.raises(InvalidInputError, match="An API key needs a name"):
        api_keys.create_key(ws, " ")
    with pytest.raises(InvalidInputError, match="the limit is 100"):
        api_keys.create_key(ws, "k" * 101)
    assert api_keys.revoke_key(ws, created.info.prefix).revoked_at is not None  # by its shown prefix
    assert api_keys.active_hashes(ws) == (frozenset(), True)
    with pytest.raises(NotFoundError, match="There is no active API key named 'nightly job'."):
        api_keys.revoke_key(ws, "nightly job")
    assert [k.name for k in api_keys.list_keys(ws, include_revoked=True)] == ["nightly job"]


def test_snippets_are_built_from_the_schema():
    schema = {"features": [{"name": "age", "default": 28.0}, {"name": "sex", "default": "male"}]}
    assert example_row(schema) == {"age": 28.0, "sex": "male"}
    curl = curl_example(schema, "http://127.0.0.1:8000/v1/models/m/predict", with_key=True)
    assert '"columns": ["age", "sex"], "data": [[28.0, "male"]]' in curl and "$ATELIER_API_KEY" in curl
    code = python_example(schema, "http://127.0.0.1:8000/v1/models/m/predict")
    compile(code, "<example>", "exec")
    assert "ATELIER_API_KEY" not in code
    assert serve_command() == "python -m core serve"
    assert serve_command("0.0.0.0", 9000) == "python -m core serve --host 0.0.0.0 --port 9000"
    assert base_url("0.0.0.0", 9000) == "http://127.0.0.1:9000"


@pytest.mark.parametrize(("field", "value", "match"), [
    ("serve_max_body_mb", 0, "ATELIER_SERVE_MAX_BODY_MB must be a positive whole number, got 0."),
    ("serve_timeout_s", -1, "ATELIER_SERVE_TIMEOUT_S must be a positive whole number, got -1."),
    ("serve_max_concurrent", 0, "ATELIER_SERVE_MAX_CONCURRENT must be a positive whole number, got 0."),
    ("serve_refresh_ms", -5, "ATELIER_SERVE_REFRESH_MS must be 0 or more milliseconds, got -5."),
])
def test_serve_settings_are_checked(tmp_path, field, value, match):
    with pytest.raises(InvalidInputError, match=match):
        Settings(home=tmp_path, **{field: value})


def test_serve_settings_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ATELIER_SERVE_MAX_BODY_MB", "5")
    monkeypatch.setenv("ATELIER_SERVE_REQUIRE_KEY", "true")
    settings = Settings.load(secrets_file=tmp_path / "none.toml", home=tmp_path)
    assert settings.serve_max_body_mb == 5 and settings.serve_require_key


def test_the_gate_refuses_one_request_too_many_and_each_slot_is_freed_once():
    from core.serve.api.errors import ApiError
    from core.serve.api.limits import Gate, Slot

    gate = Gate(1)
    slot = Slot(gate)
    with pytest.raises(ApiError, match="The server is scoring 1 requests already; try again in a moment.") as caught:
        Slot(gate)
    assert caught.value.status == 503 and caught.value.headers == {"Retry-After": "1"}
    assert slot.claim() and not slot.claim()  # the thread claims; the request's own check then does nothing
    slot.release()
    Slot(gate).release()  # the place is free again


def test_a_request_over_its_time_is_a_504():
    import time
    from concurrent.futures import ThreadPoolExecutor

    import anyio

    from core.serve.api.errors import ApiError
    from core.serve.api.limits import run_with_timeout

    async def slow():
        return await run_with_timeout(0.05, anyio.CapacityLimiter(1), time.sleep, 0.5)

    # A fresh thread: an event loop left behind by an earlier test in this one must not matter.
    with ThreadPoolExecutor(1) as pool, pytest.raises(ApiError, match="Scoring took longer than 0.05 s, "
                                                                      "the limit per request.") as caught:
        pool.submit(anyio.run, slow).result()
    assert caught.value.status == 504
