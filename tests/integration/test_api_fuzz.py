"""The OpenAPI document fuzzed with schemathesis against the real server: no request makes it fail (500)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from core.data import datasets
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.serve.deployment import model_schema
from core.serve.loaded import load_model
from tests.integration.test_api import NAME, Server, _build, _json_rows
from tests.support.models import copy_home, template_home

EXAMPLES = 25  # per operation: the whole test stays well under a minute
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_home(tmp_path_factory.mktemp("fuzz"), _build)


@pytest.fixture
def server(template, tmp_path) -> Iterator[Server]:
    ws = Workspace.open(Settings(home=copy_home(template, tmp_path / "home"), serve_refresh_ms=100,
                                 serve_window_s=3600))
    server = Server(ws)
    yield server
    server.close()
    ws.db.dispose()


def _no_failure(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:500]}"


def test_no_generated_request_gets_a_server_error(server):
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/models/{name}/predict", "/v1/models/{name}", "/health",
                                              "/v1/models/{name}/versions/{version}/predict", "/metrics"}
    sent: list[str] = []
    for op in operations:
        @FUZZ
        @given(case=op.as_strategy(), served=st.booleans())
        def call(case, served):
            if served and "name" in (case.path_parameters or {}):
                case.path_parameters["name"] = NAME  # half the cases reach the registered model
            _no_failure(case.call(base_url=server.url, timeout=30), f"{case.method.upper()} {case.path}")
            sent.append(case.path)

        call()
    assert len(set(sent)) == len(operations) and len(sent) >= 5 * len(operations)  # every operation was fuzzed


def _value():
    return st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                     st.text(max_size=12), st.lists(st.integers(), max_size=2))


def test_rows_with_the_model_columns_and_any_values_are_scored_or_refused_never_a_server_error(server):
    features = [f["name"] for f in model_schema(load_model(server.ws, NAME).version)["features"]]
    row = st.fixed_dictionaries({}, optional={f: _value() for f in features})
    version = datasets.get_version(server.ws, "titanic")
    real = _json_rows(datasets.load_frame(server.ws, version).sample(20, random_state=0)[features])
    # a real row with at most one value replaced: scored, or refused for that one column
    near = st.builds(lambda r, f, v, keep: dict(r) if keep else {**r, f: v}, st.sampled_from(real),
                     st.sampled_from(features), _value(), st.booleans())
    bodies = st.one_of(
        st.builds(lambda rows: {"dataframe_records": rows}, st.lists(near, min_size=1, max_size=3)),
        st.builds(lambda rows: {"dataframe_records": rows}, st.lists(row, min_size=1, max_size=3)),
        st.builds(lambda rows: {"instances": rows}, st.lists(row, max_size=2)),
        st.builds(lambda cols: {"inputs": cols}, st.dictionaries(st.sampled_from(features),
                                                                  st.lists(_value(), max_size=2))),
        st.builds(lambda data: {"dataframe_split": {"columns": features, "data": data}},
                  st.lists(st.lists(_value(), min_size=len(features), max_size=len(features)), max_size=2)),
    )

    statuses: list[int] = []

    @settings(FUZZ, max_examples=4 * EXAMPLES)
    @given(body=bodies, explain=st.sampled_from([None, "top3", "top0", "x"]))
    def call(body, explain):
        params = {"explain": explain} if explain else {}
        response = server.client.post(f"/v1/models/{NAME}/predict", json=body, params=params)
        _no_failure(response, str(body)[:300])
        statuses.append(response.status_code)

    call()
    assert {200, 422} <= set(statuses)  # some rows scored, some refused: the fuzz reached the model
    # Python's JSON reader takes NaN and Infinity, which JSON itself has not: refused or scored, never a 500
    for raw in (b'{"dataframe_records": [{"age": NaN, "fare": Infinity}]}', b'{"inputs": {"age": [-Infinity]}}'):
        _no_failure(server.client.post(f"/v1/models/{NAME}/predict", content=raw,
                                       headers={"content-type": "application/json"}), raw.decode())
