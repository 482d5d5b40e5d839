"""LightGBM trees compiled to a shared library with the machine's C compiler, cached per model file.

LightGBM's predictor walks generic node tables; the same trees written out as C (treelite reads
the model, tl2cgen writes the code, gcc builds it) score a million rows two to three times faster
on this machine, with the same numbers: the same double comparisons, leaf values added in the same
order, the same sigmoid or softmax from the same libm.  Building takes seconds, so it is done once
per model file and kept under ``home/cache/trees/``, and only for a batch big enough to pay for it
(``COMPILE_MIN_WORK``); a smaller batch uses a library already built, or LightGBM.

Nothing here is required.  Without treelite, tl2cgen or gcc, or when a build fails, scoring stays
with LightGBM.  The build runs in a child process, so that a crash or the libraries' console
output stays there.  Before a batch uses a library, ``matches`` compares it with LightGBM on the
batch's first rows, value for value; a model whose library differs goes back to LightGBM for the
rest of the process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.platform.cores import free_cores, usable_cpus

__all__ = ["CHECK_ROWS", "COMPILE_MIN_WORK", "CompiledTrees", "compiled_trees"]

# A batch builds the library from this many rows × trees (250,000 rows of a 200-tree model): below,
# building costs more than it saves the first time, though it is cached for the next batches.
COMPILE_MIN_WORK = 50_000_000
CHECK_ROWS = 1_000  # rows compared with LightGBM before a batch uses the library
# tl2cgen's default -O3 builds twice as slowly and scored no faster here (nor -O2, -march=native,
# quantized thresholds or branch annotations); -O0 builds 20% faster and scores 10% slower.
FLAGS = ("-O1",)
BUILD_TIMEOUT_S = 600
_BUILD = """
import sys, tl2cgen, treelite
model = treelite.frontend.load_lightgbm_model(sys.argv[1])
threads = int(sys.argv[3])
tl2cgen.export_lib(model, toolchain="gcc", libpath=sys.argv[2], params={"parallel_comp": threads}, nthread=threads,
                   options=sys.argv[4:])
"""

_LOADED: dict[Path, CompiledTrees] = {}
_REFUSED: set[str] = set()  # model checksums whose library failed to build or differed from LightGBM


class CompiledTrees:
    """A compiled LightGBM model, answering like the estimator's ``predict_proba`` / ``predict``."""

    def __init__(self, path: Path, key: str, threads: int | None = None) -> None:
        import tl2cgen

        self.path = path
        self.key = key
        # ``threads``: one per partition task when a scheduler already runs tasks side by side.  OpenMP
        # refuses more than OMP_NUM_THREADS (Dask's LocalCluster sets it to 1 in the starting process).
        limit = os.environ.get("OMP_NUM_THREADS", "")
        cap = int(limit) if limit.isdigit() and int(limit) > 0 else usable_cpus()
        # By default the cores free when the library is loaded (core.platform.cores), not every CPU:
        # told more threads than free cores, OpenMP's threads spin waiting for one another.
        self._predictor = tl2cgen.Predictor(path, nthread=min(threads or free_cores(), cap))

    def _raw(self, model_input: pd.DataFrame | np.ndarray) -> np.ndarray:
        import tl2cgen

        matrix = np.ascontiguousarray(np.asarray(model_input, dtype=np.float64))
        out = self._predictor.predict(tl2cgen.DMatrix(matrix, dtype="float64"))
        return np.asarray(out, dtype=np.float64).reshape(len(matrix), -1)

    def predict_proba(self, model_input: pd.DataFrame | np.ndarray) -> np.ndarray:
        """As ``LGBMClassifier.predict_proba``: a binary model's one output ``p`` becomes ``[1 - p, p]``."""
        out = self._raw(model_input)
        if out.shape[1] == 1:
            return np.vstack((1.0 - out[:, 0], out[:, 0])).transpose()
        return out

    def predict(self, model_input: pd.DataFrame | np.ndarray) -> np.ndarray:
        """As ``LGBMRegressor.predict``."""
        return self._raw(model_input)[:, 0]

    def matches(self, model: Any, model_input: pd.DataFrame) -> bool:
        """Whether these trees give exactly LightGBM's numbers for ``model_input``; if not, never use them again."""
        classify = hasattr(model, "predict_proba")
        ours = self.predict_proba(model_input) if classify else self.predict(model_input)
        theirs = np.asarray(model.predict_proba(model_input) if classify else model.predict(model_input))
        same = ours.shape == theirs.shape and np.array_equal(ours, theirs, equal_nan=True)
        if not same:
            _REFUSED.add(self.key)
        return same


def available() -> bool:
    """Whether treelite, tl2cgen and gcc are all here (and the two libraries load)."""
    try:
        import tl2cgen  # noqa: F401
        import treelite  # noqa: F401
    except (ImportError, OSError):  # not installed, or their native library does not load
        return False
    return shutil.which("gcc") is not None


def compiled_trees(cache_dir: Path, key: str, model: Any, *, rows: int | None) -> CompiledTrees | None:
    """The compiled trees of a fitted LightGBM estimator, built now if ``rows`` make it worth it.

    Parameters
    ----------
    cache_dir : folder of the built libraries.
    key : the model file's checksum (one library per model file).
    model : the fitted ``LGBMClassifier`` or ``LGBMRegressor``.
    rows : how many rows the batch has (``None``: unknown, so no build).

    Returns
    -------
    CompiledTrees or None
        ``None`` when compiling is unavailable, failed before, or does not pay for this batch.
    """
    if key in _REFUSED or not available():
        return None
    import tl2cgen

    path = Path(cache_dir) / f"{key}-tl2cgen{tl2cgen.__version__}{''.join(FLAGS)}.so"
    if path in _LOADED:
        return _LOADED[path]
    booster = model.booster_
    if not path.is_file():
        if rows is None or rows * booster.num_trees() < COMPILE_MIN_WORK:
            return None
        if not _build(booster, path):
            _REFUSED.add(key)
            return None
    try:
        _LOADED[path] = CompiledTrees(path, key)
    except Exception:  # a damaged or foreign library: tl2cgen raises its own error types, ctypes OSError
        _REFUSED.add(key)
        return None
    return _LOADED[path]


def _build(booster: Any, target: Path) -> bool:
    """Build the library into ``target`` (atomically); ``False`` when any step fails."""
    target.parent.mkdir(parents=True, exist_ok=True)
    threads = str(free_cores())
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        model_file, library = Path(tmp) / "model.txt", Path(tmp) / "trees.so"
        booster.save_model(model_file)  # the trees predict uses: up to the best iteration
        try:
            done = subprocess.run([sys.executable, "-c", _BUILD, str(model_file), str(library), threads, *FLAGS],
                                  capture_output=True, timeout=BUILD_TIMEOUT_S, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired):
            return False
        if done.returncode != 0 or not library.is_file():
            return False
        os.replace(library, target)
    return True
