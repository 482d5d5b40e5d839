"""Preprocessing choices, pipeline steps and column-name handling (core.ml.preprocessing, core.ml.steps)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.ml.catalogue import get_algorithm
from core.ml.config import PreprocessConfig
from core.ml.fitting import fit_pipeline, make_pipeline
from core.ml.preprocessing import build_pipeline, model_input_frame, model_input_origin, resolve_preprocessing
from core.ml.problem import column_types
from core.ml.steps import (
    CappedSelectKBest,
    CategoryCleaner,
    DatetimeExpander,
    FeatureNamer,
    IndexedOrdinalEncoder,
    NumericCaster,
    TextHasher,
)
from core.platform.errors import InvalidInputError


def _frame(n: int = 80, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "price: [€]": rng.normal(10, 3, n),
        'colour "main"': rng.choice(["red", "blue", None], n),
        "when": pd.date_range("2024-01-01", periods=n, freq="D"),
        "flag": rng.choice([True, False], n),
        "notes": [f"item {i} with some long free text words {i * 7}" for i in range(n)],
    })
    df.loc[[2, 5], "price: [€]"] = np.nan
    return df


def test_family_defaults():
    for family, scaling, encoding, imputation in [
        ("linear", "standard", "onehot", "median"), ("knn", "standard", "onehot", "median"),
        ("tree", "none", "ordinal", "median"), ("boosting", "none", "ordinal", "none"),
    ]:
        resolved, notes = resolve_preprocessing(PreprocessConfig(), family, "binary", family == "boosting")
        assert (resolved.scaling, resolved.encoding, resolved.imputation) == (scaling, encoding, imputation)
        assert notes == []


def test_resolution_overrules_impossible_choices_with_notes():
    resolved, notes = resolve_preprocessing(PreprocessConfig(imputation="none"), "svm", "binary", False)
    assert resolved.imputation == "median"
    assert notes == ["This algorithm cannot take missing values, so they are filled with the median."]
    resolved, notes = resolve_preprocessing(PreprocessConfig(encoding="target", selection="kbest", imbalance="smote"),
                                            "clustering", "clustering")
    assert (resolved.encoding, resolved.selection, resolved.imbalance) == ("onehot", "none", "none")
    assert len(notes) == 3
    resolved, notes = resolve_preprocessing(PreprocessConfig(selection="kbest"), "boosting", "binary", True)
    assert resolved.imputation == "median" and "k-best selection cannot take missing values" in notes[0]


def test_preprocess_config_validates_choices():
    with pytest.raises(InvalidInputError, match="The 'scaling' parameter of PreprocessConfig must be one of"):
        PreprocessConfig(scaling="log")
    with pytest.raises(InvalidInputError, match="column 'x'.*must be one of"):
        PreprocessConfig(column_types={"x": "image"})
    with pytest.raises(InvalidInputError, match="max_categories must be at least 2"):
        PreprocessConfig(max_categories=1)


@pytest.mark.parametrize("algorithm", ["lightgbm", "xgboost", "logistic_regression"])
def test_pipeline_takes_raw_frame_with_awkward_names(algorithm):
    df = _frame()
    y = pd.Series(np.where(df["flag"], "yes", "no"))
    entry = get_algorithm(algorithm)
    resolved, _ = resolve_preprocessing(PreprocessConfig(text="hash", hash_features=4), entry.family, "binary",
                                        entry.handles_missing)
    pipeline, weigh, _ = make_pipeline(entry, "binary", column_types(df), resolved, y=y)
    fit_pipeline(pipeline, df, y, weigh=weigh)
    names = list(pipeline.named_steps["names"].names_)
    assert all(n.replace("_", "").isalnum() for n in names)
    assert len(set(names)) == len(names)
    predicted = pipeline.predict(df.head(5))
    assert set(predicted) <= {"yes", "no"}
    origin = model_input_origin(pipeline)
    assert set(origin.values()) == set(df.columns)
    assert origin["price"] == "price: [€]"
    assert [c for c, o in origin.items() if o == "notes"] == [f"notes_hash{i}" for i in range(4)]


def test_unknown_and_odd_values_at_predict_time():
    df = _frame()
    y = pd.Series(np.arange(len(df), dtype=float))
    entry = get_algorithm("ridge")
    resolved, _ = resolve_preprocessing(PreprocessConfig(), entry.family, "regression")
    pipeline, _ = build_pipeline(column_types(df), resolved, entry.make("regression"), "regression")
    pipeline.fit(df, y)
    odd = df.head(3).astype(object)
    odd.loc[0, 'colour "main"'] = "purple"  # never seen
    odd.loc[1, "price: [€]"] = "n/a"  # text in a numeric column
    odd.loc[2, "when"] = "not a date"
    assert np.isfinite(pipeline.predict(odd)).all()


def test_origin_maps_missing_indicators_and_onehot_columns():
    df = _frame()
    entry = get_algorithm("logistic_regression")
    # asked for: an indicator even for a column missing in two rows
    resolved, _ = resolve_preprocessing(PreprocessConfig(missing_indicators=True), entry.family, "binary")
    y = pd.Series(np.where(df["flag"], 1, 0))
    pipeline, _ = build_pipeline(column_types(df), resolved, entry.make("binary"), "binary")
    pipeline.fit(df, y)
    origin = model_input_origin(pipeline)
    assert origin == {
        "price": "price: [€]", "missingindicator_price": "price: [€]",
        "colour_main_missing": 'colour "main"', "colour_main_blue": 'colour "main"', "colour_main_red": 'colour "main"',
        "when_year": "when", "when_month": "when", "when_day": "when", "when_dayofweek": "when",
        "when_days_since_1970": "when",
        "flag_False": "flag", "flag_True": "flag",
    }
    assert list(model_input_frame(pipeline, df.head(2)).columns) == list(origin)


@pytest.mark.parametrize(("missing", "indicators", "kept"), [
    (2, None, False),  # auto: two rows are too few to learn what a gap means
    (10, None, True),
    (2, True, True),  # asked for: every gap gets one
    (10, False, False),
])
def test_auto_missing_indicators_need_enough_missing_rows(missing, indicators, kept):
    from core.ml.serialize import dump_model, load_model, sha256_hex

    df = _frame().drop(columns="notes")
    df["price: [€]"] = df["price: [€]"].fillna(10.0)
    df.loc[df.index[:missing], "price: [€]"] = np.nan
    y = pd.Series(np.where(df["flag"], 1, 0))
    entry = get_algorithm("logistic_regression")
    resolved, _ = resolve_preprocessing(PreprocessConfig(missing_indicators=indicators), entry.family, "binary")
    pipeline, _ = build_pipeline(column_types(df), resolved, entry.make("binary"), "binary")
    pipeline.fit(df, y)
    assert ("missingindicator_price" in model_input_origin(pipeline)) is kept
    unseen = df.head(3).assign(**{"price: [€]": np.nan})  # a gap at predict time is filled either way
    assert list(model_input_frame(pipeline, unseen).columns) == list(model_input_origin(pipeline))
    data = dump_model(pipeline)  # the imputer is a trusted type of saved models
    np.testing.assert_array_equal(load_model(data, sha256_hex(data)).predict_proba(unseen),
                                  pipeline.predict_proba(unseen))


@pytest.mark.parametrize(("selection", "width"), [("none", 12), ("variance", 11), ("kbest", 3), ("model", 7)])
def test_feature_selection(selection, width):
    df = _frame().drop(columns="notes").assign(constant=1.0)
    y = pd.Series(np.where(df["flag"], 1, 0))
    entry = get_algorithm("logistic_regression")
    resolved, _ = resolve_preprocessing(PreprocessConfig(selection=selection, k_best=3, missing_indicators=True),
                                        entry.family, "binary")
    pipeline, _ = build_pipeline(column_types(df), resolved, entry.make("binary"), "binary", y=y)
    fit_pipeline(pipeline, df, y)  # f_classif warns about the constant column: captured, not raised
    kept = model_input_origin(pipeline)
    assert len(kept) == width + (selection in ("none",))
    if selection == "kbest":
        assert "flag" in kept.values()  # the feature that is the target


@pytest.mark.parametrize("imbalance", ["oversample", "undersample", "smote"])
def test_resampling_uses_an_imblearn_pipeline(imbalance):
    from imblearn.pipeline import Pipeline as ImbPipeline

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=100), "c": rng.choice(["a", "b"], 100)})
    y = pd.Series(["rare"] * 10 + ["common"] * 90)
    entry = get_algorithm("decision_tree")
    resolved, _ = resolve_preprocessing(PreprocessConfig(imbalance=imbalance), entry.family, "binary")
    pipeline, notes = build_pipeline(column_types(df), resolved, entry.make("binary"), "binary", y=y)
    assert isinstance(pipeline, ImbPipeline) and notes == []
    pipeline.fit(df, y)
    assert len(pipeline.predict(df)) == 100


def test_target_encoding_and_scalers():
    df = _frame().drop(columns="notes")
    y = pd.Series(np.where(df["flag"], 1, 0))
    entry = get_algorithm("knn")
    resolved, _ = resolve_preprocessing(PreprocessConfig(encoding="target", scaling="minmax", missing_indicators=True),
                                        entry.family, "binary")
    pipeline, _ = build_pipeline(column_types(df), resolved, entry.make("binary"), "binary", y=y)
    pipeline.fit(df, y)
    encoded = model_input_frame(pipeline, df)
    assert list(encoded.columns) == ["price", "missingindicator_price", "colour_main", "when_year", "when_month",
                                     "when_day", "when_dayofweek", "when_days_since_1970", "flag"]
    assert encoded["price"].min() == pytest.approx(0.0) and encoded["price"].max() == pytest.approx(1.0)


def test_text_and_datetime_only_frame_with_drop_defaults_is_refused():
    df = _frame()[["notes", "when"]]
    entry = get_algorithm("ridge")
    resolved, _ = resolve_preprocessing(PreprocessConfig(datetime="drop"), entry.family, "regression")
    with pytest.raises(InvalidInputError, match="No features are left after preprocessing"):
        build_pipeline(column_types(df), resolved, entry.make("regression"), "regression")


def test_a_change_of_regime_on_a_date_is_one_split_of_the_expanded_dates():
    """Labels recorded differently from 20 March 2013 on (seattle_weather's 'rain' becomes 'fog'): a single
    threshold on days since 1970 separates them; year, month and day alone need several splits."""
    from sklearn.tree import DecisionTreeClassifier

    days = pd.DataFrame({"d": pd.date_range("2012-07-01", "2013-12-31", freq="D")})
    y = (days["d"] >= "2013-03-20").to_numpy()
    expanded = DatetimeExpander().fit(days).transform(days)
    stump = DecisionTreeClassifier(max_depth=1).fit(expanded, y)
    assert stump.score(expanded, y) == 1.0
    without = expanded.drop(columns="d_days_since_1970")
    assert DecisionTreeClassifier(max_depth=1).fit(without, y).score(without, y) < 0.9


def test_steps_individually():
    frame = pd.DataFrame({"n": ["1.5", "x", None], "b": [True, False, None]}, dtype=object)
    cast = NumericCaster().fit(frame)
    assert cast.transform(frame).to_numpy().tolist()[0] == [1.5, 1.0]
    assert np.isnan(cast.transform(frame).iloc[1, 0])

    cleaned = CategoryCleaner().fit_transform(pd.DataFrame({"c": [1.0, 2.5, np.nan], "d": ["a", None, 3]}))
    assert cleaned.to_numpy().tolist() == [["1", "a"], ["2.5", "(missing)"], ["(missing)", "3"]]

    dates = pd.DataFrame({"d": pd.to_datetime(["2024-03-05 10:00", "2023-12-31 00:00", None])})
    expanded = DatetimeExpander().fit(dates).transform(dates)
    assert list(expanded.columns) == ["d_year", "d_month", "d_day", "d_dayofweek", "d_hour", "d_days_since_1970"]
    assert expanded.iloc[0].tolist() == [2024, 3, 5, 1, 10, pytest.approx(19787 + 10 / 24)]
    assert expanded.iloc[2].isna().all()
    midnight = DatetimeExpander().fit(pd.DataFrame({"d": pd.to_datetime(["2024-01-01", "2024-01-02"])}))
    assert midnight.parts_ == ["year", "month", "day", "dayofweek", "days_since_1970"]

    hashed = TextHasher(8).fit_transform(pd.DataFrame({"t": ["good good bad", None]}))
    assert hashed.shape == (2, 8) and hashed.iloc[1].sum() == 0

    namer = FeatureNamer().fit(pd.DataFrame([[1.0, 2.0, 3.0]], columns=["num__a:b", "c0__a b", "c1__a:b"]))
    assert list(namer.names_) == ["a_b", "a_b_2", "a_b_3"]

    selector = CappedSelectKBest(k=10).fit(np.random.default_rng(0).normal(size=(20, 3)), np.arange(20) % 2)
    assert selector.get_support().all()


def test_feature_namer_renames_without_copying_and_averages_the_readable_values():
    """transform shares its input's values (a copy cost a quarter of a second per million rows) and leaves the
    input's names alone; mean_ leaves out NaN and ±inf, and is 0 for a column with nothing readable."""
    frame = pd.DataFrame({"num__a": [1.0, np.nan, 3.0, np.inf], "num__b": [np.nan] * 4, "c0__x": [0.0, 1.0, 1.0, 2.0]})
    namer = FeatureNamer(background_rows=2).fit(frame)
    assert namer.mean_.tolist() == [2.0, 0.0, 1.0]
    assert namer.background_.shape == (2, 3)
    renamed = namer.transform(frame)
    assert list(renamed.columns) == ["a", "b", "x"] and list(frame.columns) == ["num__a", "num__b", "c0__x"]
    assert np.shares_memory(renamed["x"].to_numpy(), frame["c0__x"].to_numpy())
    pd.testing.assert_frame_equal(renamed.set_axis(frame.columns, axis=1), frame)


def test_indexed_ordinal_encoder_gives_scikit_learns_codes():
    """Known values, unknown ones (``unknown_value``), text that reads as a number; the fitted names are
    checked; an encoder grouping rare categories takes scikit-learn's own path and still agrees."""
    from sklearn.preprocessing import OrdinalEncoder

    rng = np.random.default_rng(3)
    train = pd.DataFrame({"a": rng.choice(["b", "a", "(missing)", "10"], 500).astype(object),
                          "b": rng.choice(["x", "y"], 500).astype(object)})
    test = pd.DataFrame({"a": ["a", "zz", "10", "(missing)"], "b": ["y", "x", "new", "x"]}, dtype=object)
    for extra in ({}, {"min_frequency": 0.3}):
        settings = {"handle_unknown": "use_encoded_value", "unknown_value": -1, "dtype": np.float64, **extra}
        ours, theirs = IndexedOrdinalEncoder(**settings).fit(train), OrdinalEncoder(**settings).fit(train)
        np.testing.assert_array_equal(ours.transform(test), theirs.transform(test))
        np.testing.assert_array_equal(ours.transform(train), theirs.transform(train))
    plain = IndexedOrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1).fit(train)
    assert plain.transform(test).tolist() == [[2, 1], [-1, 0], [1, -1], [0, 0]]  # categories sorted as text
    with pytest.raises(ValueError, match="feature names"):
        IndexedOrdinalEncoder().fit(train).transform(test.rename(columns={"a": "c"}))


def test_category_cleaner_texts_values_alike_on_every_path():
    """Distinct values are texted once where pd.factorize agrees with the cleaner; mixed objects row by row."""
    frame = pd.DataFrame({
        "s": pd.Series(["b", None, "a", "b", np.nan], dtype=object),
        "f": [3.0, 2.5, np.nan, 3.0, 1.0],
        "i": [1, 2, 1, 3, 2],
        "m": pd.Series([1, 1.0, True, "1", None], dtype=object),  # one value to pd.factorize, four texts here
        "t": pd.Series(["x", pd.NA, "y", "x", "x"], dtype="string"),
        "empty": pd.Series([None] * 5, dtype=object),
    })
    out = CategoryCleaner().fit_transform(frame)
    assert out["s"].tolist() == ["b", "(missing)", "a", "b", "(missing)"]
    assert out["f"].tolist() == ["3", "2.5", "(missing)", "3", "1"]
    assert out["i"].tolist() == ["1", "2", "1", "3", "2"]
    assert out["m"].tolist() == ["1", "1.0", "True", "1", "(missing)"]
    assert out["t"].tolist() == ["x", "(missing)", "y", "x", "x"]
    assert out["empty"].tolist() == ["(missing)"] * 5
    assert all(dtype.kind == "O" for dtype in out.dtypes)
