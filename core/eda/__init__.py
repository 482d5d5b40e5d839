"""Exploratory data analysis: pure functions on pandas DataFrames and plotly figure builders.

What the EDA page shows, each computed here, nothing drawn with Streamlit:

========================  ==========================================================
overview                  :func:`describe_dataset` -> :class:`Overview`;
                          :func:`format_overview` for the command line
distributions             :func:`distribution_figure`
correlations              :func:`compute_correlations` -> :class:`Correlations`;
                          :func:`correlation_figure`; :func:`cramers_v`,
                          :func:`correlation_ratio`
missing values            :func:`summarize_missing` -> :class:`MissingValues`;
                          :func:`missingness_figure`
outliers                  :func:`detect_outliers` -> :class:`OutlierSummary`;
                          :func:`outlier_rows` -> :class:`OutlierRows` (rows to drop)
target vs features        :func:`analyze_target` -> :class:`TargetAnalysis`;
                          :func:`target_figure`
leakage screen            :func:`screen_leakage` -> :class:`LeakageCheck` per feature
                          (the Train page's feature warnings use it too)
scatter                   :func:`scatter_figure` (WebGL, sampled above 50,000 rows)
========================  ==========================================================

Bad input: one convention everywhere
------------------------------------
* :class:`core.platform.errors.InvalidInputError` is raised when **nothing at all** can be shown: the
  argument is not a DataFrame, the frame has no columns or no rows, a named column does not
  exist, a parameter is out of range, or the request cannot mean anything (a regression target
  that is not numeric, a classification target with a single class).  The message says what was
  expected, what came, and what to do.  The one exception to "no rows": :func:`describe_dataset`
  still returns the column names and types of an empty frame, with a note.
* Everything else returns a result whose ``notes: list[str]`` says, in a sentence each, what it
  could not show and why: a single column, columns missing in every row, constant columns, free
  text, categoricals with thousands of values (capped to the most frequent, the rest counted as
  ``(other)``), dates written as text in mixed formats, and every place where a random row sample
  stood in for all rows (then ``sampled_rows`` gives its size).  A figure builder returns a
  :class:`Chart` whose ``figure`` is ``None`` when nothing can be drawn, with notes saying why.

No function emits warnings or lets a pandas, numpy or scikit-learn exception escape for bad
data.  Random samples use a fixed ``seed`` (default 0), so the same data gives the same result.
"""

from core.eda._common import Chart
from core.eda.correlations import Correlations, compute_correlations, correlation_ratio, cramers_v, cramers_v_from_table
from core.eda.figures import correlation_figure, distribution_figure
from core.eda.leakage import LeakageCheck, screen_leakage
from core.eda.missing import MissingValues, missingness_figure, summarize_missing
from core.eda.outliers import OutlierRows, OutlierSummary, detect_outliers, outlier_rows
from core.eda.overview import ColumnSummary, Overview, TopValue, describe_dataset
from core.eda.scatter import scatter_figure, target_figure
from core.eda.target import TargetAnalysis, analyze_target
from core.eda.text import format_overview

__all__ = [
    "Chart",
    "ColumnSummary",
    "Correlations",
    "LeakageCheck",
    "MissingValues",
    "OutlierRows",
    "OutlierSummary",
    "Overview",
    "TargetAnalysis",
    "TopValue",
    "analyze_target",
    "compute_correlations",
    "correlation_figure",
    "correlation_ratio",
    "cramers_v",
    "cramers_v_from_table",
    "describe_dataset",
    "detect_outliers",
    "distribution_figure",
    "format_overview",
    "missingness_figure",
    "outlier_rows",
    "scatter_figure",
    "screen_leakage",
    "summarize_missing",
    "target_figure",
]
