"""The leakage screen of a named table, run once for every feature set asked about it.

:func:`core.eda.leakage.screen_leakage` judges each feature on its own: the rows it samples and the
folds it scores on are drawn from the target alone, never from the features chosen.  So one screen
of every column answers any feature set, and :func:`screen_features` keeps that screen, keyed by
what the caller says the table is (a dataset version's sample: its id, checksum and sample size),
the target, the problem kind and the seed.  The Train page's warnings and its algorithm ranking
(the search set-up and its data preparation) then share one screen per version and target instead
of fitting the trees again on every feature change.

The memo is bounded (:data:`MEMO_ENTRIES` tables, least recently used out first) and lives in the
process, so a server's sessions share it; without a key nothing is kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Any

import pandas as pd

from core.eda.leakage import LEAK_ROWS, LeakageCheck, screen_leakage

__all__ = ["MEMO_ENTRIES", "forget_screens", "screen_features"]

MEMO_ENTRIES = 16  # a few versions × targets; each entry is one small check per column
_memo: OrderedDict[tuple, dict[Any, LeakageCheck]] = OrderedDict()
_lock = threading.Lock()  # page sessions run in threads of one server


def screen_features(
    df: pd.DataFrame,
    target: Any,
    kind: str,
    features: Sequence[Any],
    *,
    key: Hashable | None = None,
    seed: int = 0,
    rows: int = LEAK_ROWS,
) -> list[LeakageCheck]:
    """:func:`~core.eda.leakage.screen_leakage` of ``features``, from one screen of every column of ``df``.

    Parameters
    ----------
    df, target, kind, features, seed, rows
        As for :func:`~core.eda.leakage.screen_leakage`.
    key : hashable, optional
        Names ``df``'s data: equal keys promise equal tables (a version's sample:
        ``(version id, sha256, sample rows)``).  ``None`` screens ``features`` only and keeps nothing.
        The number of rows joins the key, so the labelled rows of a table (training drops rows
        without a target first) share its screen only when they are all of them.

    Returns
    -------
    list of LeakageCheck
        The same checks :func:`~core.eda.leakage.screen_leakage` returns for ``features``, in their order.
    """
    if key is None:
        return screen_leakage(df, target, kind, features, rows=rows, seed=seed)
    memo_key = (key, len(df), target, str(kind), seed, rows)
    with _lock:
        checks = _memo.get(memo_key)
        if checks is not None:
            _memo.move_to_end(memo_key)
    if checks is None:
        # Outside the lock: a screen takes a fraction of a second, and another session's lookup should not wait.
        checks = {check.feature: check for check in screen_leakage(df, target, kind, list(df.columns), rows=rows,
                                                                   seed=seed)}
        with _lock:
            _memo[memo_key] = checks
            while len(_memo) > MEMO_ENTRIES:
                _memo.popitem(last=False)
    return [checks[name] for name in features if name != target and name in checks]


def forget_screens() -> None:
    """Empty the memo (tests; a server never needs to: a key names data that does not change)."""
    with _lock:
        _memo.clear()
