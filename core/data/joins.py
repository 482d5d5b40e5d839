"""Joins of two Arrow tables on key columns: key checks, a plan measured from key counts
(row count, unmatched rows, many-to-many keys) before anything runs, and key suggestions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from core.platform.errors import InvalidInputError

HOW = ("inner", "left")
# A join whose result would pass this many rows is refused before it runs (raise it on purpose).
DEFAULT_MAX_ROWS = 20_000_000
RIGHT_SUFFIX = "_right"


@dataclass(frozen=True)
class JoinPlan:
    """What a join will do, measured before it runs."""

    rows: int
    left_unmatched: int  # left rows whose key finds no right row
    right_unmatched: int
    many_to_many: bool  # a key repeats on both sides
    duplicate_right_keys: int  # distinct keys that appear more than once on the right
    warnings: list[str] = field(default_factory=list)


def _key_kind(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_timestamp(t):
        return f"timestamp[{t.tz or 'naive'}]"
    if pa.types.is_date(t):
        return "date"
    return str(t)


def _common_key_type(left: pa.DataType, right: pa.DataType, key: str) -> pa.DataType:
    lk, rk = _key_kind(left), _key_kind(right)
    if {lk, rk} <= {"integer"}:
        return pa.int64()
    if {lk, rk} <= {"integer", "float"}:
        return pa.float64()
    if lk == rk == "text":
        return pa.large_string()
    if lk == rk and lk.startswith("timestamp"):
        return pa.timestamp("us", left.tz)
    if lk == rk and lk in {"boolean", "date"}:
        return pa.bool_() if lk == "boolean" else pa.date32()
    raise InvalidInputError(
        f"Key column {key!r} holds {lk} values on the left and {rk} values on the right, so its values "
        "can never match.",
        hint="Join on columns of the same kind, or make a version with the column converted first.",
    )


def _prepare(left: pa.Table, right: pa.Table, on: Sequence[str]) -> tuple[pa.Table, pa.Table]:
    on = list(on)
    if not on:
        raise InvalidInputError("Name at least one key column to join on.")
    for side, table in (("left", left), ("right", right)):
        missing = [k for k in on if k not in table.column_names]
        if missing:
            raise InvalidInputError(
                f"The {side} dataset has no column {', '.join(map(repr, missing))}.",
                hint=f"Its columns: {', '.join(table.column_names[:30])}.",
            )
    if len(set(on)) != len(on):
        raise InvalidInputError("A key column is named twice.")
    for key in on:
        common = _common_key_type(left.schema.field(key).type, right.schema.field(key).type, key)
        left = left.set_column(left.column_names.index(key), key, left[key].cast(common))
        right = right.set_column(right.column_names.index(key), key, right[key].cast(common))
    return left, right


def _key_counts(table: pa.Table, on: list[str]) -> pa.Table:
    keyed = table.select(on)
    keep = None
    for k in on:  # null keys match nothing
        valid = pc.is_valid(keyed[k])
        keep = valid if keep is None else pc.and_(keep, valid)
    return keyed.filter(keep).group_by(on).aggregate([([], "count_all")])


def plan_join(left: pa.Table, right: pa.Table, on: Sequence[str], how: str = "inner") -> JoinPlan:
    """Row count, unmatched rows and many-to-many keys of a join, from key counts alone."""
    on = list(on)
    left, right = _prepare(left, right, on)
    return _plan_prepared(left, right, on, how)[0]


def _plan_prepared(left: pa.Table, right: pa.Table, on: list[str], how: str) -> tuple[JoinPlan, pa.Array | None]:
    """The plan of tables already through :func:`_prepare`, and for a key unique on the right the
    position of each left row's right row (null: no match), which the join then reuses."""
    if how not in HOW:
        raise InvalidInputError(f"The join kind must be one of {', '.join(HOW)}, not {how!r}.")
    if len(on) == 1:  # a key unique on the right (a lookup table) needs no counting
        keys = right[on[0]]
        if pc.count_distinct(keys, mode="only_valid").as_py() == len(keys) - keys.null_count:
            where = pc.index_in(left[on[0]], value_set=keys, skip_nulls=True)
            left_matched = left.num_rows - where.null_count
            right_matched = pc.count_distinct(where, mode="only_valid").as_py()
            return JoinPlan(left_matched if how == "inner" else left.num_rows, left.num_rows - left_matched,
                            right.num_rows - right_matched, False, 0,
                            [] if left_matched else ["No key value matches between the two datasets."]), where
    lc = _key_counts(left, on).rename_columns([*on, "n_left"])
    rc = _key_counts(right, on).rename_columns([*on, "n_right"])
    both = lc.join(rc, on, join_type="inner")
    n_l = both["n_left"].to_numpy().astype("int64")
    n_r = both["n_right"].to_numpy().astype("int64")
    matched = int((n_l * n_r).sum())
    left_matched = int(n_l.sum())
    right_matched = int(n_r.sum())
    left_unmatched = left.num_rows - left_matched
    rows = matched + (left_unmatched if how == "left" else 0)
    dup_right = int(pc.sum(pc.greater(rc["n_right"], 1)).as_py() or 0)
    many = bool(((n_l > 1) & (n_r > 1)).any())
    warnings = []
    if many:
        warnings.append(
            f"Some key values repeat on both sides (many-to-many): the join makes {rows:,} rows from "
            f"{left.num_rows:,} left rows. Check that {', '.join(on)} is the key you mean.")
    elif dup_right:
        warnings.append(f"{dup_right:,} key value(s) appear more than once on the right, so left rows "
                        "with them are repeated.")
    if left_matched == 0:
        warnings.append("No key value matches between the two datasets.")
    return JoinPlan(rows, left_unmatched, right.num_rows - right_matched, many, dup_right, warnings), None


@dataclass(frozen=True)
class KeySuggestion:
    column: str
    overlap: float  # share of the left sample's distinct key values found on the right


def suggest_keys(left: pa.Table, right: pa.Table, sample: int = 20_000) -> list[KeySuggestion]:
    """Columns of the same name and a compatible kind, best value overlap (on a sample) first."""
    out = []
    for col in left.column_names:
        if col not in right.column_names:
            continue
        try:
            common = _common_key_type(left.schema.field(col).type, right.schema.field(col).type, col)
        except InvalidInputError:
            continue
        if common == pa.float64() and _key_kind(left.schema.field(col).type) == "float":
            continue  # measured values are rarely keys
        lv = pc.unique(left[col].slice(0, sample).cast(common)).drop_null()
        rv = pc.unique(right[col].slice(0, sample * 5).cast(common)).drop_null()
        found = pc.sum(pc.is_in(lv, value_set=rv)).as_py() or 0
        out.append(KeySuggestion(col, found / len(lv) if len(lv) else 0.0))
    return sorted(out, key=lambda k: -k.overlap)


def join_tables(left: pa.Table, right: pa.Table, on: Sequence[str], how: str = "inner", *,
                max_rows: int = DEFAULT_MAX_ROWS, suffix: str = RIGHT_SUFFIX) -> tuple[pa.Table, JoinPlan]:
    """``left`` joined with ``right`` on ``on``, in the left table's row order; refused when the result
    would pass ``max_rows``.  Right columns whose names clash get ``suffix``."""
    on = list(on)
    left, right = _prepare(left, right, on)  # once: the plan and the join share the cast keys
    plan, where = _plan_prepared(left, right, on, how)
    if plan.rows > max_rows:
        raise InvalidInputError(
            f"The join would make {plan.rows:,} rows, more than the cap of {max_rows:,}"
            + (" (key values repeat on both sides)." if plan.many_to_many else "."),
            hint="Check the key columns, filter the inputs first, or raise the cap (--max-rows) on purpose.",
        )
    clashes = [c for c in right.column_names if c not in on and c in left.column_names]
    if clashes:
        right = right.rename_columns([f"{c}{suffix}" if c in clashes else c for c in right.column_names])
    _check_free(left, right, on)
    if where is not None:
        return _lookup_join(left, right, on[0], how, where), plan
    order_l, order_r = "__atelier_left_row", "__atelier_right_row"
    left = left.append_column(order_l, pa.array(range(left.num_rows), pa.int64()))
    right = right.append_column(order_r, pa.array(range(right.num_rows), pa.int64()))
    joined = left.join(right, on, join_type="inner" if how == "inner" else "left outer",
                       coalesce_keys=True, use_threads=True)
    joined = joined.sort_by([(order_l, "ascending"), (order_r, "ascending")])
    names = [c for c in left.column_names if c != order_l] + [c for c in right.column_names
                                                              if c not in on and c != order_r]
    return joined.select(names), plan


def _lookup_join(left: pa.Table, right: pa.Table, key: str, how: str, where: pa.Array) -> pa.Table:
    """One key, unique on the right: each left row takes its right row at ``where`` (null: no
    match; no hash join, no sort: several times faster, and left order for free)."""
    if how == "inner":
        keep = pc.is_valid(where)
        left, where = left.filter(keep), where.filter(keep)
    picked = right.drop_columns([key]).take(where)
    for name, column in zip(picked.column_names, picked.columns, strict=True):
        left = left.append_column(name, column)
    return left


def _check_free(left: pa.Table, right: pa.Table, on: list[str]) -> None:
    taken = set(left.column_names)
    again = [c for c in right.column_names if c not in on and c in taken]
    if again:
        raise InvalidInputError(f"Columns {', '.join(map(repr, again))} exist on both sides even after renaming.",
                                hint="Drop or rename them in one input first.")
