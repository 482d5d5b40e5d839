"""Joins and row filters into new dataset versions: semantics, errors, provenance, re-runs, jobs."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from core.data import datasets
from core.data.transform import (
    Condition,
    apply_spec,
    filter_table,
    filter_version,
    join_spec,
    join_tables,
    join_versions,
    parse_where,
    plan_join,
    rerun_version,
    submit_transform,
)
from core.platform import jobs
from core.platform.errors import ConflictError, InvalidInputError


def _save(ws, name, frame, **kw):
    return datasets.save_version(ws, name, frame, provenance={"source": "test"}, **kw)


# -- parsing --------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("age >= 3", Condition("age", ">=", "3")),
    ("age<3", Condition("age", "<", "3")),
    ("sex = male", Condition("sex", "==", "male")),
    ("embarked in S,C", Condition("embarked", "in", ["S", "C"])),
    ("embarked not in S, C", Condition("embarked", "not in", ["S", "C"])),
    ('city in "New York", Paris', Condition("city", "in", ["New York", "Paris"])),
    ("cabin is missing", Condition("cabin", "is missing")),
    ("cabin IS NOT MISSING", Condition("cabin", "is not missing")),
    ("name contains Mr.", Condition("name", "contains", "Mr.")),
    ("home town != 'Lisbon'", Condition("home town", "!=", "Lisbon")),
    ("inside == 2", Condition("inside", "==", "2")),
])
def test_parse_where_reads_each_operator(text, expected):
    assert parse_where(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("age", "Cannot read the condition"),
    (">= 3", "Cannot read the condition"),
    ("age >=", "has no value"),
    ("embarked in S,", "empty item"),
    ("cabin is missing yes", "takes no value"),
    ("__import__('os') ~ 1", "Cannot read the condition"),
])
def test_parse_where_refuses_what_it_cannot_read(text, message):
    with pytest.raises(InvalidInputError, match=message):
        parse_where(text)


# -- filtering ------------------------------------------------------------------------------
TABLE = pa.table({
    "id": [1, 2, 3, 4, None],
    "fare": [7.25, float("nan"), 53.1, 8.05, 10.0],
    "embarked": ["S", "C", None, "Q", "S"],
    "name": ["Mr. A", "Mrs. B", "Mr. C", "Miss D", "Ms. E"],
    "alive": [True, False, True, None, False],
})


@pytest.mark.parametrize(("cond", "ids"), [
    ("id >= 3", [3, 4]),
    ("id != 2", [1, 3, 4]),  # a missing id meets no comparison
    ("fare < 9", [1, 4]),  # NaN is missing
    ("fare is missing", [2]),
    ("embarked in S,C", [1, 2, None]),
    ("embarked not in S", [2, 4]),  # missing embarked is left out, as in SQL
    ("embarked is not missing", [1, 2, 4, None]),
    ("name contains Mr.", [1, 3]),
    ("alive == true", [1, 3]),
    ("id in 1,3.0", [1, 3]),
])
def test_filter_semantics(cond, ids):
    assert filter_table(TABLE, [parse_where(cond)])["id"].to_pylist() == ids


def test_filter_combines_with_and_or_and_drops_columns():
    conds = [parse_where("embarked == S"), parse_where("fare > 50")]
    assert filter_table(TABLE, conds)["id"].to_pylist() == []
    out = filter_table(TABLE, conds, combine="or", drop=["name"])
    assert out["id"].to_pylist() == [1, 3, None]
    assert "name" not in out.column_names


@pytest.mark.parametrize(("cond", "message"), [
    (Condition("nope", "==", "1"), "no column 'nope'"),
    (Condition("id", "~=", "1"), "Unknown operator"),
    (Condition("id", ">", "abc"), "'abc' is not a number"),
    (Condition("alive", "==", "maybe"), "is not a boolean"),
    (Condition("fare", "contains", "7"), "'contains' works on text"),
    (Condition("id", "in", []), "needs a list"),
    (Condition("id", "==", None), "needs a value"),
])
def test_filter_errors_name_the_problem(cond, message):
    with pytest.raises(InvalidInputError, match=message):
        filter_table(TABLE, [cond])


def test_filter_version_saves_provenance_and_refuses_empty_results(ws):
    source = _save(ws, "people", TABLE.to_pandas(), roles={"alive": "target", "id": "id"})
    new = filter_version(ws, source, [parse_where("embarked in S,C")], "people-sc", drop=["name"])
    assert (new.name, new.version, new.n_rows) == ("people-sc", 1, 3)
    assert new.provenance["source"] == "filter"
    assert new.provenance["inputs"] == [{"dataset_id": source.dataset_id, "version_id": source.id,
                                         "name": "people", "version": 1}]
    assert new.provenance["spec"]["conditions"] == [{"column": "embarked", "op": "in", "value": ["S", "C"]}]
    assert new.parent_id == source.id
    assert new.roles["alive"] == "target" and "name" not in new.roles
    with pytest.raises(InvalidInputError, match="No row of people@1"):
        filter_version(ws, source, [parse_where("id > 100")], "nothing")
    with pytest.raises(ConflictError):
        filter_version(ws, source, [parse_where("id > 1")], "people-sc")
    assert [d.name for d in datasets.list_datasets(ws)].count("nothing") == 0


# -- joins ----------------------------------------------------------------------------------
LEFT = pa.table({"k": pa.array([3, 1, 2, 2, None], pa.int32()), "v": [30, 10, 20, 21, 0]})
RIGHT = pa.table({"k": [2, 3, 3, 9], "v": ["b", "c1", "c2", "z"], "w": [2.0, 3.0, 3.5, 9.0]})


def test_inner_and_left_join_keep_left_order_and_suffix_clashes():
    inner, plan = join_tables(LEFT, RIGHT, ["k"])
    assert inner.column_names == ["k", "v", "v_right", "w"]
    assert inner.to_pydict() == {"k": [3, 3, 2, 2], "v": [30, 30, 20, 21], "v_right": ["c1", "c2", "b", "b"],
                                 "w": [3.0, 3.5, 2.0, 2.0]}
    assert plan.rows == 4 and not plan.many_to_many and plan.duplicate_right_keys == 1  # 2 repeats left, 3 right
    left, plan = join_tables(LEFT, RIGHT, ["k"], "left")
    assert left["k"].to_pylist() == [3, 3, 1, 2, 2, None]  # null keys match nothing but stay
    assert left["w"].to_pylist()[2] is None
    assert (plan.rows, plan.left_unmatched, plan.right_unmatched) == (6, 2, 1)


def test_join_matches_pandas_merge_on_two_keys():
    a = pd.DataFrame({"x": [1, 1, 2, 2], "y": ["a", "b", "a", "b"], "p": [1, 2, 3, 4]})
    b = pd.DataFrame({"x": [1, 2, 2], "y": ["b", "a", "c"], "q": [10.0, 20.0, 30.0]})
    out, plan = join_tables(pa.Table.from_pandas(a), pa.Table.from_pandas(b), ["x", "y"], "left")
    expected = a.merge(b, on=["x", "y"], how="left")
    pd.testing.assert_frame_equal(out.to_pandas(), expected, check_dtype=False)
    assert not plan.many_to_many


def test_many_to_many_is_warned_about_and_refused_over_the_cap():
    many = pa.table({"k": [1] * 100, "a": range(100)})
    plan = plan_join(many, many.rename_columns(["k", "b"]), ["k"])
    assert plan.rows == 10_000 and plan.many_to_many and "many-to-many" in plan.warnings[0]
    with pytest.raises(InvalidInputError, match="10,000 rows, more than the cap of 1,000"):
        join_tables(many, many.rename_columns(["k", "b"]), ["k"], max_rows=1000)


@pytest.mark.parametrize(("right", "on", "message"), [
    (RIGHT, ["nope"], "The left dataset has no column 'nope'"),
    (RIGHT.drop_columns(["k"]).append_column("kk", pa.array([1, 2, 3, 4])), ["k"], "right dataset has no column 'k'"),
    (pa.table({"k": ["2", "3"]}), ["k"], "integer values on the left and text values on the right"),
    (RIGHT, [], "at least one key"),
])
def test_join_key_errors(right, on, message):
    with pytest.raises(InvalidInputError, match=message):
        join_tables(LEFT, right, on)


def test_join_int_and_float_keys_match():
    out, _ = join_tables(LEFT, pa.table({"k": [2.0, 1.0], "z": ["two", "one"]}), ["k"])
    assert out["z"].to_pylist() == ["one", "two", "two"]


def test_join_versions_records_both_parents_and_reruns_on_latest_inputs(ws):
    people = _save(ws, "people", pd.DataFrame({"pid": [1, 2, 3], "age": [30, 41, 25], "y": [0, 1, 0]}),
                   roles={"pid": "id", "y": "target"})
    cities = _save(ws, "cities", pd.DataFrame({"pid": [1, 2], "city": ["Lisbon", "Porto"], "y": [5, 6]}),
                   roles={"y": "target"})
    joined = join_versions(ws, people, cities, ["pid"], "people+cities", how="left")
    assert joined.n_rows == 3 and joined.columns == ["pid", "age", "y", "city", "y_right"]
    assert [i["version_id"] for i in joined.provenance["inputs"]] == [people.id, cities.id]
    assert joined.provenance["spec"] == join_spec(people, cities, ["pid"], "left")
    assert joined.roles["y"] == "target" and joined.roles["y_right"] == "feature"  # one target only
    assert "2 rows" not in joined.note and "1 left rows without a match" in joined.note

    _save(ws, "cities", pd.DataFrame({"pid": [3], "city": ["Faro"], "y": [7]}), if_exists="new_version")
    same = rerun_version(ws, "people+cities@1")
    assert same.version == 2 and datasets.load_frame(ws, same)["city"].tolist() == ["Lisbon", "Porto", None]
    latest = rerun_version(ws, "people+cities", latest_inputs=True)
    assert datasets.load_frame(ws, latest)["city"].tolist() == [None, None, "Faro"]
    with pytest.raises(InvalidInputError, match="not made by a join or a filter"):
        rerun_version(ws, "people")


def test_join_as_a_background_job(ws):
    a = _save(ws, "a", pd.DataFrame({"k": [1, 2, 3], "x": [1, 2, 3]}))
    b = _save(ws, "b", pd.DataFrame({"k": [1, 3], "z": ["p", "q"]}))
    job_id = submit_transform(ws, join_spec(a, b, ["k"]), "ab")
    done = jobs.wait(ws, job_id, timeout=120)
    assert done.status == "succeeded", jobs.logs(ws, job_id)
    assert datasets.get_version_by_id(ws, done.result["version_id"]).n_rows == 2
    with pytest.raises(ConflictError):
        submit_transform(ws, join_spec(a, b, ["k"]), "ab")
    with pytest.raises(InvalidInputError, match="different versions"):
        apply_spec(ws, join_spec(a, a, ["k"]), "aa")


def test_suggest_keys_ranks_shared_columns_by_value_overlap():
    from core.data.transform import suggest_keys

    left = pa.table({"id": [1, 2, 3, 4], "code": ["a", "b", "c", "d"], "score": [0.1, 0.2, 0.3, 0.4]})
    right = pa.table({"id": [1, 9], "code": ["a", "b", "c", "x"][:2], "score": [0.1, 0.2]})
    hints = suggest_keys(left, right)
    assert [(h.column, h.overlap) for h in hints] == [("code", 0.5), ("id", 0.25)]  # float columns are no keys
    assert suggest_keys(left, pa.table({"id": ["1"]})) == []  # text vs integer: never a key


@pytest.mark.parametrize("how", ["inner", "left"])
def test_unique_right_key_lookup_matches_pandas(how):
    a = pd.DataFrame({"k": [5, None, 1, 5, 7, 1], "p": range(6)})
    b = pd.DataFrame({"k": [1.0, 5.0, None, 8.0], "q": ["one", "five", "none", "eight"]})
    out, plan = join_tables(pa.Table.from_pandas(a), pa.Table.from_pandas(b), ["k"], how)
    assert plan.duplicate_right_keys == 0  # the lookup path
    expected = a.dropna(subset=["k"]).merge(b.dropna(subset=["k"]), on="k", how=how) if how == "inner" else (
        a.merge(b.dropna(subset=["k"]), on="k", how="left"))
    pd.testing.assert_frame_equal(out.to_pandas().reset_index(drop=True), expected.reset_index(drop=True),
                                  check_dtype=False)
