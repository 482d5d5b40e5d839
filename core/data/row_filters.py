"""Row filters as structured conditions (column, operator, value), read strictly from text
(``"age >= 3"``) and applied with Arrow compute; nothing a user types is evaluated as code."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.platform.errors import InvalidInputError

OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in", "is missing", "is not missing", "contains")
_NO_VALUE = {"is missing", "is not missing"}
_LIST_VALUE = {"in", "not in"}


@dataclass(frozen=True)
class Condition:
    """``column OP value``.  Missing values satisfy only ``is missing`` (as in SQL): ``!=`` and
    ``not in`` leave them out too."""

    column: str
    op: str
    value: Any = None

    def describe(self) -> str:
        if self.op in _NO_VALUE:
            return f"{self.column} {self.op}"
        value = ",".join(map(str, self.value)) if isinstance(self.value, list | tuple) else self.value
        return f"{self.column} {self.op} {value}"


# Word operators stand between spaces ("cabin is missing" is not "cab in …"); symbols need none.
_WORD = re.compile(r"^\s*(?P<col>.+?)\s+(?P<op>is\s+not\s+missing|is\s+missing|not\s+in|contains|in)"
                   r"(?:\s+(?P<rest>.*)|\s*)$", re.IGNORECASE | re.DOTALL)
_SYMBOL = re.compile(r"^\s*(?P<col>[^=!<>]+?)\s*(?P<op>==|!=|<=|>=|=|<|>)\s*(?P<rest>.*)$", re.DOTALL)
_ITEM = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|([^,]*?))\s*(?:,|$)""")


def parse_where(text: str) -> Condition:
    """``"age >= 3"``, ``"embarked in S,C"``, ``"cabin is missing"``, ``"name contains Mr"`` → a Condition.

    Values stay text here; :func:`filter_table` reads them as the column's type.  Quotes around a
    value (``name == "Smith, J"``, ``city in "New York",Paris``) keep commas and spaces in it.
    """
    found = [m for m in (_WORD.match(text or ""), _SYMBOL.match(text or "")) if m and m["col"].strip()]
    if not found:
        raise InvalidInputError(
            f"Cannot read the condition {text!r}.",
            hint="Write COLUMN OPERATOR VALUE, e.g. \"age >= 3\", \"embarked in S,C\", \"cabin is missing\"; "
            f"operators: {', '.join(OPERATORS)}.",
        )
    m = min(found, key=lambda m: m.start("op"))  # the first operator in the text
    op = " ".join(m["op"].lower().split())
    op = "==" if op == "=" else op
    column, rest = m["col"].strip().strip("`"), (m["rest"] or "").strip()
    if op in _NO_VALUE:
        if rest:
            raise InvalidInputError(f"{op!r} takes no value, but {text!r} gives {rest!r}.")
        return Condition(column, op)
    if not rest:
        raise InvalidInputError(f"The condition {text!r} has no value after {op!r}.")
    if op in _LIST_VALUE:
        values = _split_list(rest)
        if any(v == "" for v in values):
            raise InvalidInputError(f"The list in {text!r} has an empty item.", hint="Write e.g. \"embarked in S,C\".")
        return Condition(column, op, values)
    return Condition(column, op, _unquote(rest))


def _split_list(text: str) -> list[str]:
    items, pos = [], 0
    while pos <= len(text):
        m = _ITEM.match(text, pos)
        items.append(next((g for g in m.groups() if g is not None), ""))
        if m.end() == pos or m.end() >= len(text) and not text[m.end() - 1:m.end()] == ",":
            break
        pos = m.end()
    return items


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def condition_from(obj: Condition | Mapping[str, Any]) -> Condition:
    if isinstance(obj, Condition):
        cond = obj
    else:
        unknown = set(obj) - {"column", "op", "value"}
        if unknown or "column" not in obj or "op" not in obj:
            raise InvalidInputError(f"A condition needs 'column' and 'op' (and 'value'); got {dict(obj)!r}.")
        cond = Condition(str(obj["column"]), str(obj["op"]), obj.get("value"))
    if cond.op not in OPERATORS:
        raise InvalidInputError(f"Unknown operator {cond.op!r}.", hint=f"Use one of: {', '.join(OPERATORS)}.")
    if cond.op in _LIST_VALUE:
        values = cond.value if isinstance(cond.value, list | tuple) else [cond.value]
        if not values or any(v is None for v in values):
            raise InvalidInputError(f"{cond.column} {cond.op} … needs a list of values.")
        cond = Condition(cond.column, cond.op, list(values))
    elif cond.op not in _NO_VALUE and cond.value is None:
        raise InvalidInputError(f"{cond.column} {cond.op} … needs a value.")
    return cond


_KINDS = {"a boolean": "booleans", "a number": "numbers", "a date or time": "dates and times"}


def _typed(value: Any, type_: pa.DataType, cond: Condition) -> Any:
    """``value`` read as a value of the column's type, or a message naming both."""
    def bad(kind: str) -> InvalidInputError:
        return InvalidInputError(f"In {cond.describe()!r}: {value!r} is not {kind}, and column {cond.column!r} "
                                 f"holds {_KINDS[kind]}.")
    if pa.types.is_dictionary(type_):
        type_ = type_.value_type
    if pa.types.is_boolean(type_):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "1", "yes"}:
            return True
        if text in {"false", "0", "no"}:
            return False
        raise bad("a boolean")
    if pa.types.is_integer(type_) or pa.types.is_floating(type_) or pa.types.is_decimal(type_):
        if isinstance(value, bool):
            raise bad("a number")
        if isinstance(value, int | float):
            return value
        try:
            number = float(str(value).strip())
        except ValueError:
            raise bad("a number") from None
        return int(number) if number.is_integer() and pa.types.is_integer(type_) else number
    if pa.types.is_timestamp(type_) or pa.types.is_date(type_):
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError):
            raise bad("a date or time") from None
        if pa.types.is_date(type_):
            return stamp.date()
        tz = type_.tz
        if tz and stamp.tzinfo is None:
            stamp = stamp.tz_localize(tz)
        elif not tz and stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        return stamp.to_pydatetime()
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return str(value)
    raise InvalidInputError(f"Column {cond.column!r} has type {type_}, which filters cannot compare.",
                            hint="Filter on a number, text, boolean or date column.")


def condition_mask(table: pa.Table, cond: Condition) -> pa.ChunkedArray:
    """A boolean mask (no nulls) of the rows that satisfy ``cond``."""
    cond = condition_from(cond)
    if cond.column not in table.column_names:
        raise InvalidInputError(f"There is no column {cond.column!r}.",
                                hint=f"Columns: {', '.join(table.column_names[:30])}.")
    values = table[cond.column]
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    missing = pc.is_null(values, nan_is_null=True)
    if cond.op == "is missing":
        return missing
    if cond.op == "is not missing":
        return pc.invert(missing)
    if cond.op == "contains":
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            raise InvalidInputError(f"'contains' works on text; column {cond.column!r} holds {values.type}.",
                                    hint="Use == or in for other columns.")
        mask = pc.match_substring(values, str(cond.value))
    elif cond.op in _LIST_VALUE:
        items = pa.array([_typed(v, values.type, cond) for v in cond.value])
        if items.type != values.type:
            if pa.types.is_integer(values.type) and pa.types.is_floating(items.type):
                values = values.cast(pa.float64())  # "age in 1.5,2"
            else:
                items = items.cast(values.type)
        mask = pc.is_in(values, value_set=items)
        if cond.op == "not in":
            mask = pc.invert(mask)
    else:
        scalar = _typed(cond.value, values.type, cond)
        fn = {"==": pc.equal, "!=": pc.not_equal, "<": pc.less, "<=": pc.less_equal,
              ">": pc.greater, ">=": pc.greater_equal}[cond.op]
        mask = fn(values, pa.scalar(scalar) if not isinstance(scalar, pa.Scalar) else scalar)
    return pc.and_(pc.fill_null(mask, False), pc.invert(missing))


def filter_table(table: pa.Table, conditions: Sequence[Condition | Mapping[str, Any]], combine: str = "and",
                 drop: Iterable[str] = ()) -> pa.Table:
    """The rows of ``table`` that meet all (``combine='and'``) or any (``'or'``) conditions, less ``drop``."""
    if combine not in {"and", "or"}:
        raise InvalidInputError(f"Conditions combine with 'and' or 'or', not {combine!r}.")
    drop = list(drop)
    unknown = [c for c in drop if c not in table.column_names]
    if unknown:
        raise InvalidInputError(f"These columns to drop are not in the table: {', '.join(map(repr, unknown))}.")
    if drop and len(drop) >= table.num_columns:
        raise InvalidInputError("Dropping every column would leave an empty dataset.")
    if conditions:
        masks = [condition_mask(table, c) for c in conditions]
        mask = masks[0]
        for m in masks[1:]:
            mask = pc.and_(mask, m) if combine == "and" else pc.or_(mask, m)
        table = table.filter(mask)
    return table.drop_columns(drop) if drop else table
