"""A table of flats for the import tests: every column kind a version describes, and the quality problems
its report finds (missing prices, a padded value and a placeholder, a constant column, free text, exact
duplicate rows)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def flats_table(rows: int, *, seed: int, price_gap: int, repeated: int, repeat_from: int = 0) -> pa.Table:
    """``rows`` distinct flats, then ``repeated`` of them (from ``repeat_from`` on) again, exactly."""
    rng = np.random.default_rng(seed)
    price = rng.normal(100, 20, rows).round(2)
    price[::price_gap] = np.nan
    city = rng.choice(["Lisbon", " Porto", "?", "Faro"], rows).astype(object)  # a padded value and a placeholder
    city[::97] = None
    base = pa.table({
        "row_id": np.arange(rows),
        "price": price,
        "rooms": rng.integers(1, 4, rows),
        "city": pa.array(city, pa.string()),
        "country": ["PT"] * rows,  # constant
        "review": [f"a rather long review, number {i}, of this flat" for i in range(rows)],  # free text
        "seen": (np.datetime64("2024-01-01") + rng.integers(0, 900, rows).astype("timedelta64[D]")).astype("M8[ns]"),
    })
    return pa.concat_tables([base, base.slice(repeat_from, repeated)])
