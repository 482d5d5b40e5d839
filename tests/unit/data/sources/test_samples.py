"""The bundled samples: real tables, documented, with roles that fit their columns."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from core.data.schema import infer_schema, validate_roles
from core.data.sources import samples
from core.platform.errors import NotFoundError

EXPECTED = {"titanic", "penguins", "mpg", "seattle_weather", "adult"}


def test_every_expected_sample_is_listed_with_its_file() -> None:
    infos = samples.list_samples()
    assert {i.key for i in infos} == EXPECTED
    for info in infos:
        assert info.path.is_file()
        assert info.path.stat().st_size < 2 * 1024 * 1024
        assert info.title and info.description and info.licence and info.source
        assert info.task in {"binary classification", "multiclass classification", "regression"}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_load_matches_the_listed_shape_and_roles(key: str) -> None:
    info = samples.get_sample(key)
    frame = samples.load_sample(key)
    assert frame.shape == (info.rows, info.columns)
    assert info.target in frame.columns
    roles = validate_roles(samples.suggested_roles(key), frame.columns)
    assert [c for c, r in roles.items() if r == "target"] == [info.target]


def test_titanic_is_the_real_titanic3() -> None:
    frame = samples.load_sample("titanic")
    assert frame.shape == (1309, 14)
    assert frame["survived"].value_counts().to_dict() == {0: 809, 1: 500}
    assert int(frame["age"].isna().sum()) == 263
    assert frame.loc[0, "name"] == "Allen, Miss. Elisabeth Walton"
    assert samples.suggested_roles("titanic") == {"boat": "ignore", "body": "ignore", "survived": "target"}


def test_penguins_mpg_weather_and_adult_facts() -> None:
    penguins = samples.load_sample("penguins")
    assert penguins["species"].value_counts().to_dict() == {"Adelie": 152, "Gentoo": 124, "Chinstrap": 68}
    assert int(penguins["sex"].isna().sum()) == 11
    mpg = samples.load_sample("mpg")
    assert mpg["Miles_per_Gallon"].dtype == "float64" and int(mpg["Miles_per_Gallon"].isna().sum()) == 8
    assert mpg["Year"].min() == 1970 and mpg["Year"].max() == 1982
    weather = samples.load_sample("seattle_weather")
    assert str(weather["date"].dtype) == "datetime64[ns]"
    assert weather["date"].is_monotonic_increasing
    assert (weather["date"].min(), weather["date"].max()) == (pd.Timestamp("2012-01-01"), pd.Timestamp("2015-12-31"))
    adult = samples.load_sample("adult")
    assert adult["income"].value_counts().to_dict() == {"<=50K": 24720, ">50K": 7841}
    assert not adult["workclass"].dropna().str.startswith(" ").any()


def test_schema_of_the_samples() -> None:
    kinds = {c.name: c.logical_type for c in infer_schema(samples.load_sample("seattle_weather"))}
    assert kinds == {"date": "datetime", "precipitation": "numeric", "temp_max": "numeric", "temp_min": "numeric",
                     "wind": "numeric", "weather": "categorical"}
    titanic = {c.name: c.logical_type for c in infer_schema(samples.load_sample("titanic"))}
    assert titanic["sex"] == "categorical" and titanic["name"] == "text" and titanic["age"] == "numeric"


def test_unknown_sample_lists_the_valid_keys() -> None:
    with pytest.raises(NotFoundError, match=r"no bundled sample 'iris'; the samples are 'titanic', 'penguins'"):
        samples.load_sample("iris")
    with pytest.raises(NotFoundError, match="no bundled sample"):
        samples.sample_provenance("iris")


def test_provenance_is_plain_json() -> None:
    record = samples.sample_provenance("penguins")
    assert record["source"] == "sample" and record["sample"] == "penguins"
    assert record["file"] == "data/samples/penguins.parquet"
    assert "CC0" in record["licence"]
    assert json.loads(json.dumps(record)) == record


def test_readme_documents_every_sample_with_its_shape() -> None:
    readme = (samples.SAMPLES_DIR / "README.md").read_text(encoding="utf-8")
    for info in samples.list_samples():
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{info.key}.parquet`"))
        shape = re.search(r"\| ([\d,]+) × (\d+) \|", row)
        assert shape is not None
        assert (int(shape.group(1).replace(",", "")), int(shape.group(2))) == (info.rows, info.columns)
        assert f"`{info.target}`" in row
