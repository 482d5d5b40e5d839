"""Reference statistics: types, statistics, histograms, the form's needs, plain JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.data.types import iso_to_ns, logical_type
from core.models.training_stats import (
    OTHER,
    FeatureSpec,
    bin_counts,
    build_reference,
    feature_specs,
    reference_feature,
)
from core.platform.errors import InvalidInputError


def _plain(value: object) -> bool:
    """True when ``value`` holds only JSON types (no numpy scalars, no NaN)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, float):
        return np.isfinite(value)
    return value is None or type(value) in (str, int, bool)


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 500
    return pd.DataFrame(
        {
            "price": rng.normal(100, 15, n),
            "rooms": rng.integers(1, 6, n),
            "city": rng.choice(["Paris", "Lyon", "Nice"], n, p=[0.5, 0.3, 0.2]),
            "garden": rng.random(n) < 0.25,
            "sold": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 366, n), unit="D"),
            "notes": [f"a long free-text description of house number {i}" for i in range(n)],
            "grade": pd.Categorical(rng.choice(["A", "B"], n)),
        }
    )


def test_logical_types_and_widgets(frame: pd.DataFrame) -> None:
    ref = build_reference(frame, list(frame.columns))
    kinds = {f["name"]: (f["logical_type"], f["form"]["widget"]) for f in ref["features"]}
    assert kinds == {
        "price": ("numeric", "number"),
        "rooms": ("numeric", "number"),
        "city": ("categorical", "select"),
        "garden": ("boolean", "checkbox"),
        "sold": ("datetime", "date"),
        "notes": ("text", "text"),
        "grade": ("categorical", "select"),
    }
    assert [f["name"] for f in ref["features"]] == list(frame.columns)
    assert ref["n_rows"] == 500 and ref["bins"] == 20 and ref["max_categories"] == 50


def test_reference_is_plain_json(frame: pd.DataFrame) -> None:
    frame.loc[::7, "price"] = np.nan
    ref = build_reference(frame, list(frame.columns))
    assert _plain(ref)
    assert json.loads(json.dumps(ref, allow_nan=False)) == ref


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (pd.Series([1, 2, None], dtype="Int64"), "numeric"),
        (pd.Series([True, False, None], dtype="boolean"), "boolean"),
        (pd.Series([True, False, None], dtype=object), "boolean"),
        (pd.Series(["a", "b", None], dtype="string[pyarrow]"), "categorical"),
        (pd.Series(pd.to_datetime(["2024-01-01", None]).tz_localize("UTC")), "datetime"),
        (pd.Series([f"id-{i}" for i in range(100)]), "text"),  # more than max_categories, all distinct
        (pd.Series([f"c{i % 60}" for i in range(1000)]), "categorical"),  # many short repeated labels
    ],
)
def test_logical_type_of_dtypes(values: pd.Series, kind: str) -> None:
    assert logical_type(values) == kind
    ref = build_reference(pd.DataFrame({"x": values}), ["x"])
    assert ref["features"][0]["logical_type"] == kind


def test_numeric_statistics_hand_checked() -> None:
    df = pd.DataFrame({"x": np.arange(1, 101, dtype=np.int64)})
    feature = build_reference(df, ["x"], bins=4)["features"][0]
    stats = feature["stats"]
    assert (stats["min"], stats["max"], stats["mean"], stats["median"]) == (1.0, 100.0, 50.5, 50.5)
    assert stats["std"] == pytest.approx(np.std(np.arange(1, 101), ddof=1))
    # numpy's linear rule: position q * 99 between sorted values
    assert stats["quantiles"] == pytest.approx(
        {"p1": 1.99, "p5": 5.95, "p25": 25.75, "p50": 50.5, "p75": 75.25, "p95": 95.05, "p99": 99.01}
    )
    assert feature["histogram"] == {"edges": [25.75, 50.5, 75.25], "counts": [25, 25, 25, 25]}
    assert feature["integer"] is True
    assert feature["form"] == {
        "widget": "number",
        "default": 50,
        "min": 1,
        "max": 100,
        "categories": [],
        "integer": True,
    }


def test_shuffled_values_with_ties_get_numpys_quantiles_and_the_sorted_bin_counts() -> None:
    # the statistics are read off a partial order (np.partition), so they must equal the sorted-array rules
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.integers(0, 40, 5_000), rng.normal(size=3_001) * 7]).astype(float)
    rng.shuffle(x)
    feature = build_reference(pd.DataFrame({"x": x}), ["x"], bins=12)["features"][0]
    probs = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
    assert list(feature["stats"]["quantiles"].values()) == np.quantile(x, probs).tolist()
    assert (feature["stats"]["min"], feature["stats"]["max"]) == (x.min(), x.max())
    edges = np.array(feature["histogram"]["edges"])
    assert edges.tolist() == np.unique(np.quantile(x, np.linspace(0, 1, 13)[1:-1])).tolist()
    assert feature["histogram"]["counts"] == bin_counts(np.sort(x), edges).tolist()


def test_missing_and_infinite_values_count_as_missing() -> None:
    df = pd.DataFrame({"x": [1.5, np.nan, np.inf, 2.5, -np.inf, 3.5, np.nan, 4.5]})
    feature = build_reference(df, ["x"])["features"][0]
    assert feature["n"] == 8 and feature["n_missing"] == 4 and feature["missing_fraction"] == 0.5
    assert feature["stats"]["mean"] == 3.0 and feature["integer"] is False
    assert sum(feature["histogram"]["counts"]) == 4


def test_histogram_edges_are_quantiles_with_open_outer_bins() -> None:
    x = np.random.default_rng(1).exponential(size=10_000)
    feature = build_reference(pd.DataFrame({"x": x}), ["x"], bins=10)["features"][0]
    edges, counts = feature["histogram"]["edges"], feature["histogram"]["counts"]
    assert len(edges) == 9 and len(counts) == 10 and edges == sorted(edges)
    assert edges[0] > x.min() and edges[-1] < x.max()  # the outer bins reach to -inf and +inf
    assert counts == [1000] * 10


def test_discrete_values_collapse_edges() -> None:
    feature = build_reference(pd.DataFrame({"x": [1, 2, 3] * 100}), ["x"])["features"][0]
    assert feature["histogram"] == {"edges": [1.0, 2.0, 3.0], "counts": [0, 100, 100, 100]}


def test_bin_counts_rule() -> None:
    values = np.sort(np.array([0.0, 1.0, 1.5, 2.0, 3.0]))
    # bins: (-inf, 1), [1, 2), [2, +inf)
    assert bin_counts(values, np.array([1.0, 2.0])).tolist() == [1, 2, 2]
    assert bin_counts(values, np.array([])).tolist() == [5]


def test_categories_top_and_other() -> None:
    values = ["a"] * 5 + ["b"] * 4 + ["c"] * 3 + ["d"] * 2 + ["e"] + [None] * 5
    feature = build_reference(pd.DataFrame({"x": values}), ["x"], max_categories=3)["features"][0]
    assert feature["categories"] == [
        {"value": "a", "count": 5, "frequency": 5 / 15},
        {"value": "b", "count": 4, "frequency": 4 / 15},
        {"value": "c", "count": 3, "frequency": 3 / 15},
    ]
    assert feature["other_count"] == 3 and feature["other_frequency"] == pytest.approx(0.2)
    assert feature["stats"] == {"n_unique": 5, "most_frequent": "a"}
    assert feature["missing_fraction"] == 0.25
    assert feature["form"]["categories"] == ["a", "b", "c"] and feature["form"]["default"] == "a"
    assert OTHER == "__other__"


def test_category_dtype_ignores_unused_categories() -> None:
    s = pd.Series(pd.Categorical(["x", "x", "y"], categories=["x", "y", "z"]))
    feature = build_reference(pd.DataFrame({"g": s}), ["g"])["features"][0]
    assert [c["value"] for c in feature["categories"]] == ["x", "y"]


def test_boolean_feature() -> None:
    feature = build_reference(pd.DataFrame({"b": [True, False, True, True]}), ["b"])["features"][0]
    assert feature["categories"][0] == {"value": True, "count": 3, "frequency": 0.75}
    assert feature["form"]["widget"] == "checkbox" and feature["form"]["default"] is True


def test_datetime_feature_round_trips_iso() -> None:
    stamps = pd.date_range("2024-01-01", periods=100, freq="D", tz="Europe/Paris")
    feature = build_reference(pd.DataFrame({"t": stamps}), ["t"], bins=4)["features"][0]
    assert feature["timezone"] == "Europe/Paris"
    assert feature["stats"]["min"] == "2024-01-01T00:00:00+01:00"
    assert feature["stats"]["max"] == "2024-04-09T00:00:00+02:00"
    assert pd.Timestamp(feature["stats"]["median"]) == stamps[49] + (stamps[50] - stamps[49]) / 2
    assert sum(feature["histogram"]["counts"]) == 100 and len(feature["histogram"]["edges"]) == 3
    # edges read back to the same instants whatever their text form
    assert np.all(np.diff(iso_to_ns(feature["histogram"]["edges"])) > 0)
    assert feature["form"]["widget"] == "date" and feature["form"]["default"] == feature["stats"]["median"]


def test_all_missing_numeric_column() -> None:
    feature = build_reference(pd.DataFrame({"x": [np.nan, np.nan]}), ["x"])["features"][0]
    assert feature["missing_fraction"] == 1.0 and feature["stats"]["min"] is None
    assert feature["histogram"] == {"edges": [], "counts": [0]} and feature["form"]["default"] is None


def test_feature_specs(frame: pd.DataFrame) -> None:
    specs = feature_specs(build_reference(frame, list(frame.columns)))
    assert all(isinstance(s, FeatureSpec) for s in specs)
    by_name = {s.name: s for s in specs}
    rooms = by_name["rooms"]
    assert rooms.widget == "number" and rooms.integer and (rooms.minimum, rooms.maximum) == (1, 5)
    assert isinstance(rooms.default, int) and 1 <= rooms.default <= 5
    assert by_name["city"].categories == ("Paris", "Lyon", "Nice") and by_name["city"].default == "Paris"
    sold = by_name["sold"]
    assert isinstance(sold.default, pd.Timestamp) and sold.minimum <= sold.default <= sold.maximum
    assert by_name["garden"].default is False and by_name["notes"].widget == "text"
    assert by_name["price"].integer is False and by_name["price"].dtype == "float64"


def test_reference_feature_lookup(frame: pd.DataFrame) -> None:
    ref = build_reference(frame, ["price", "city"])
    assert reference_feature(ref, "city")["logical_type"] == "categorical"
    with pytest.raises(InvalidInputError, match=r"Feature 'rooms' is not one of the model's 2 features: price, city"):
        reference_feature(ref, "rooms")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"features": ["price", "area"]}, r"Feature 'area' is not a column of the training data: it has 7 columns"),
        ({"features": []}, r"at least one feature; the feature list is empty"),
        ({"features": ["price", "price"]}, r"Each feature must be listed once; repeated: 'price'"),
        ({"features": ["price"], "bins": 1}, r"The 'bins' parameter must be an integer of at least 2; got 1"),
        ({"features": ["price"], "max_categories": 0}, r"'max_categories' parameter must be a positive integer; got 0"),
    ],
)
def test_bad_arguments(frame: pd.DataFrame, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        build_reference(frame, **kwargs)


def test_empty_frame_and_wrong_type(frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidInputError, match=r"The training data has no rows"):
        build_reference(frame.iloc[:0], ["price"])
    with pytest.raises(InvalidInputError, match=r"need a pandas DataFrame; got list instead"):
        build_reference([1, 2], ["price"])  # type: ignore[arg-type]


def test_duplicate_feature_column_names() -> None:
    df = pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"])
    with pytest.raises(InvalidInputError, match=r"Column names must be unique; repeated: a"):
        build_reference(df, ["a"])


def test_a_text_field_starts_at_the_most_frequent_training_text() -> None:
    notes = ["call back", "no answer", "call back", None, "wrong number", "call back"] * 30
    frame = pd.DataFrame({"notes": notes + [f"one-off remark number {i}" for i in range(200)]})
    [spec] = feature_specs(build_reference(frame, ["notes"]))
    assert spec.widget == "text" and spec.default == "call back"
    [empty] = feature_specs(build_reference(pd.DataFrame({"notes": pd.Series([None] * 5, dtype=object)}), ["notes"]))
    assert empty.default in ("", None)  # no training text: nothing to start at
