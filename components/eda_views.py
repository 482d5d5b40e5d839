"""Renderers for the EDA page, one per view; every number and figure comes from ``components.eda_cache``.

Each view shows the notes of the result it draws (``st.info``): what it could not show and why.
A view that can show nothing at all for this version says so instead of drawing an empty chart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import streamlit as st

from components import dataset_picker, eda_cache
from components.guard import show_error
from components.job_panel import job_panel, watch
from core.data import datasets
from core.data.datasets import VersionInfo
from core.eda import Chart, reports
from core.eda.reports import SAMPLE_THRESHOLD, report_info, stored_report
from core.eda.target import KINDS
from core.platform.errors import IntegrityError
from core.platform.workspace import Workspace

_PCT = st.column_config.NumberColumn(format="percent")
_NUM = st.column_config.NumberColumn(format="%.4g")
_MARKDOWN = re.compile(r"([\\*_$`~])")
CORRELATION_METHODS = {"Pearson": "pearson", "Spearman": "spearman", "Associations (every column)": "associations"}
OUTLIER_METHODS = {"iqr": "IQR rule (1.5 × IQR beyond the quartiles)", "zscore": "z-score above 3",
                   "isolation_forest": "isolation forest (about 1% of rows)"}


def show_notes(notes: Iterable[str]) -> None:
    """The notes as one info box, each a bullet, with Markdown characters shown as typed."""
    notes = [_MARKDOWN.sub(r"\\\1", n) for n in dict.fromkeys(notes)]  # a figure repeats its result's notes
    if notes:
        st.info("\n".join(f"- {n}" for n in notes), icon=":material/info:")


def show_chart(chart: Chart, key: str) -> None:
    show_notes(chart.notes)
    if chart.figure is not None:
        st.plotly_chart(chart.figure, key=key, width="stretch")


def _share(share: float) -> dict:
    """A metric's share shown under its value, neutral (no arrow, no colour)."""
    return {"delta": f"{share:.1%}", "delta_color": "off", "delta_arrow": "off"}


def _bytes(n: int) -> str:
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,} B"


def _numeric_columns(version: VersionInfo) -> list[str]:
    return [c["name"] for c in version.schema if c.get("logical_type") == "numeric"]


def overview_view(ws: Workspace, version: VersionInfo) -> None:
    o = eda_cache.overview(version.id, version.sha256)
    cells = st.columns(5)
    cells[0].metric("Rows", f"{o.rows:,}")
    cells[1].metric("Columns", f"{o.columns:,}")
    cells[2].metric("Memory", _bytes(o.memory_bytes) + (" (est.)" if o.memory_estimated else ""))
    cells[3].metric("Missing cells", f"{o.missing_cells:,}", **_share(o.missing_cells_pct))
    cells[4].metric("Duplicate rows", f"{o.duplicate_rows:,}", **_share(o.duplicate_rows_pct))
    st.caption("Types: " + ", ".join(f"{kind} {n}" for kind, n in sorted(o.types.items(), key=lambda kv: -kv[1])))
    show_notes(o.notes)
    words = {"p25": "25%", "p50": "median", "p75": "75%", "std": "std dev"}  # headers in words, not field names
    st.dataframe(o.table(), hide_index=True, width="stretch", column_config={
        "name": "column", "dtype": "stored as",
        "missing_pct": st.column_config.NumberColumn("missing %", format="percent"),
        **{c: st.column_config.NumberColumn(words.get(c, c), format="%.4g")
           for c in ("mean", "std", "min", "p25", "p50", "p75", "max", "skew", "kurtosis")}})


def distributions_view(ws: Workspace, version: VersionInfo) -> None:
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    ids = set(version.columns_with_role("id"))  # an id's distribution is flat by construction: start elsewhere
    first = next((i for i, c in enumerate(version.columns) if c not in ids), 0)
    column = left.selectbox("Column", version.columns, index=first, key=f"eda.dist.column.{version.id}")
    log_scale = right.toggle("Log scale", key="eda.dist.log")
    show_chart(eda_cache.distribution(version.id, version.sha256, column, log_scale), key="eda.dist.chart")


def correlations_view(ws: Workspace, version: VersionInfo) -> None:
    label = st.radio("Method", list(CORRELATION_METHODS), horizontal=True, key="eda.corr.method",
                     help="Pearson and Spearman use numeric columns; associations let every column take part "
                          "(Cramér's V between categories, the correlation ratio between a category and a number).")
    result, chart = eda_cache.correlations(version.id, version.sha256, CORRELATION_METHODS[label])
    near = result.near_duplicates
    if len(near):
        st.warning(f"{len(near)} pair(s) are near duplicates (|value| > 0.95): one column of each pair adds "
                   "little beyond the other.", icon=":material/content_copy:")
    show_chart(chart, key="eda.corr.chart")
    st.subheader("Strongest pairs")
    if result.pairs.empty:
        st.caption("No pair of columns could be measured.")
    else:
        st.dataframe(result.strongest(25), hide_index=True, width="stretch", key="eda.corr.pairs",
                     column_config={"value": st.column_config.NumberColumn(format="%.3f")})


def missing_view(ws: Workspace, version: VersionInfo) -> None:
    summary, matrix = eda_cache.missing(version.id, version.sha256)
    cells = st.columns(3)
    cells[0].metric("Missing cells", f"{summary.missing_cells:,}", **_share(summary.missing_cells_pct))
    cells[1].metric("Rows with a missing value", f"{summary.rows_with_missing:,}")
    cells[2].metric("Columns with a missing value", f"{int((summary.per_column['missing'] > 0).sum()):,}")
    show_notes(summary.notes)
    present = summary.per_column[summary.per_column["missing"] > 0]
    if len(present):
        st.subheader("Missing values per column")
        st.bar_chart(present.set_index("column")["missing_pct"], horizontal=True, y_label="share of rows missing",
                     x_label="", sort="-missing_pct")
    st.subheader("Missingness matrix")
    show_chart(matrix, key="eda.missing.matrix")
    if len(summary.together):
        st.subheader("Columns that go missing together")
        st.dataframe(summary.together, hide_index=True, width="stretch",
                     column_config={"correlation": st.column_config.NumberColumn(format="%.2f")})


def outliers_view(ws: Workspace, version: VersionInfo) -> None:
    summary = eda_cache.outliers(version.id, version.sha256)
    show_notes(summary.notes)
    if summary.per_column.empty:
        st.info("There is no numeric column with varying values, so there are no outliers to find.")
        return
    st.subheader("Per numeric column")
    st.dataframe(summary.per_column, hide_index=True, width="stretch",
                 column_config={"iqr_pct": _PCT, "z_pct": _PCT, **{c: _NUM for c in (
                     "q1", "q3", "iqr", "low_fence", "high_fence", "mean", "std")}})
    left, right = st.columns(2)
    left.markdown("**Most extreme values** (largest |z| first)")
    left.dataframe(summary.extreme_rows, hide_index=True, width="stretch", column_config={"z": _NUM, "value": _NUM})
    if summary.forest_rows is not None:
        right.markdown(f"**Most anomalous rows** (isolation forest: {summary.forest_outliers:,} of "
                       f"{summary.forest_sample:,} rows look anomalous; lower score = stranger)")
        right.dataframe(summary.forest_rows, hide_index=True, width="stretch", column_config={"score": _NUM})
    st.subheader("Save a version without outliers")
    method = st.selectbox("Rows to remove", list(OUTLIER_METHODS), format_func=OUTLIER_METHODS.get,
                          key="eda.outliers.method")
    rows = eda_cache.outlier_rows(version.id, version.sha256, method)
    show_notes(rows.notes)
    st.write(f"**{rows.count:,}** of {version.n_rows:,} rows ({rows.count / max(version.n_rows, 1):.1%}) are "
             f"outliers by the {OUTLIER_METHODS[method]}.")
    if rows.count == version.n_rows:
        st.caption("Every row is an outlier by this rule: removing them would leave nothing.")
    clicked = st.button("Save a new version without these rows", key="eda.outliers.save", type="primary",
                        disabled=rows.count in (0, version.n_rows))
    if clicked:
        positions = np.flatnonzero(rows.mask.to_numpy())
        new = datasets.derive_version(ws, version, drop_rows=positions.tolist(),
                                      note=f"Removed {len(positions):,} outlier rows ({method})")
        dataset_picker.remember(new)
        st.session_state.pop(f"eda.version.{version.name}", None)  # let the picker open the new version
        st.session_state["eda.flash"] = (f"Saved {new.label}: {new.n_rows:,} rows, without the {len(positions):,} "
                                         f"outlier rows of {version.label}.")
        st.rerun()


def target_view(ws: Workspace, version: VersionInfo) -> None:
    target = version.target
    if target is None:
        st.info("This version has no target column. Choose one under Schema & roles on the Data page to compare "
                "the features with it.")
        st.page_link("views/data.py", label="Go to Data", icon=":material/table:")
        return
    detected, reason = eda_cache.problem_kind(version.id, version.sha256, target)
    kinds = list(KINDS)
    kind = st.radio("Problem type", kinds, index=kinds.index(detected), horizontal=True,
                    key=f"eda.target.kind.{version.id}", help=f"Detected: {reason}.")
    analysis = eda_cache.target_analysis(version.id, version.sha256, target, kind)
    for leak in analysis.leakage:
        st.warning(leak, icon=":material/warning:")
    show_notes(analysis.notes)
    st.subheader(f"Features ranked by mutual information with {target!r}")
    st.dataframe(analysis.ranking, hide_index=True, width="stretch", key="eda.target.ranking",
                 column_config={c: _NUM for c in ("mutual_information", "entropy_share", "single_feature_score",
                                                   "correlation")})
    features = [str(f) for f in analysis.ranking["feature"]] or [c for c in version.columns if c != target]
    if not features:
        return
    feature = st.selectbox("Feature", features, key=f"eda.target.feature.{version.id}")
    show_chart(eda_cache.target_chart(version.id, version.sha256, feature, target, kind), key="eda.target.chart")


def scatter_view(ws: Workspace, version: VersionInfo) -> None:
    columns = version.columns
    numeric = _numeric_columns(version)
    preferred = numeric + [c for c in columns if c not in numeric]
    a, b, c, d = st.columns(4)
    x = a.selectbox("x", columns, index=columns.index(preferred[0]), key=f"eda.scatter.x.{version.id}")
    y_default = next((p for p in preferred if p != x), x)
    y = b.selectbox("y", columns, index=columns.index(y_default), key=f"eda.scatter.y.{version.id}")
    color = c.selectbox("Colour", [None, *columns], format_func=lambda v: "—" if v is None else v,
                        key=f"eda.scatter.color.{version.id}",
                        index=1 + columns.index(version.target) if version.target else 0)
    size = d.selectbox("Size (numeric)", [None, *numeric], format_func=lambda v: "—" if v is None else v,
                       key=f"eda.scatter.size.{version.id}")
    chart = eda_cache.scatter(version.id, version.sha256, x, y, color, size)
    if chart.sampled_rows:
        st.caption(f"Above 50,000 rows the plot draws a random sample: {chart.sampled_rows:,} points here.")
    show_chart(chart, key="eda.scatter.chart")


def report_view(ws: Workspace, version: VersionInfo) -> None:
    job_panel(reports.PROFILE_JOB, key="eda.profile",
              scope=lambda job: job.params.get("dataset_version_id") == version.id)
    try:
        html, damaged = stored_report(ws, version), False
    except IntegrityError as exc:  # say so, and offer to make it again (the new report replaces it)
        show_error(exc)
        html, damaged = None, True
    if html is not None:
        info = report_info(ws, version)
        same = "" if info is None or info.label == version.label else f" {version.label} has the same data."
        st.caption((info.describe() + same) if info else "The stored profiling report of this data.")
        st.download_button("Download the report (HTML)", html, file_name=f"{version.name}-v{version.version}-"
                           "profile.html", mime="text/html", key="eda.report.download", on_click="ignore",
                           icon=":material/download:")
        st.iframe(html.decode("utf-8"), height=900)
        return
    n = version.n_rows
    rows = f"all {n:,} rows" if n <= SAMPLE_THRESHOLD else f"a random sample of {SAMPLE_THRESHOLD:,} of the {n:,} rows"
    st.caption(f"A full ydata-profiling report in minimal mode (fast; no pairwise interactions) on {rows}. It runs "
               "as a background job: leave the page if you like, it keeps going; once made, it is stored and "
               "opens at once.")
    running = reports.profiling_now(ws, version)
    if st.button("Generate profiling report", key="eda.report.generate", type="primary", disabled=bool(running)):
        job_id = reports.submit_profile(ws, version, refresh=damaged)
        watch("eda.profile", job_id)
        st.rerun()


VIEWS = {
    "Overview": overview_view, "Distributions": distributions_view, "Correlations": correlations_view,
    "Missing values": missing_view, "Outliers": outliers_view, "Target vs features": target_view,
    "Scatter": scatter_view, "Full report": report_view,
}


def empty_version_note(version: VersionInfo, view: str) -> str:
    """What a view other than the overview says about a version without rows."""
    return (f"{version.label} has {version.n_columns} columns but no rows: the {view} view needs values, so there "
            "is nothing to show. The Overview lists its columns and types; pick another version to explore the data.")
