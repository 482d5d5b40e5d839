"""Benchmarks: one task's model versions in a leaderboard (every task on request), charts, export, compare, registry."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from components import model_views, registry_views
from components.guard import guard
from components.state import last_task, workspace
from core.data.target import CLASSIFICATION_KINDS
from core.ml.catalogue import algorithm_label
from core.models import comparison_figures as cf
from core.models import figures as mf
from core.models import leaderboard as lb
from core.models import ranking, registry
from core.platform.chart_style import model_colours
from core.platform.display import metric_label

st.title("Benchmarks")
ws = workspace()

with guard("Reading the model registry"):
    versions = registry.list_versions(ws)
if not versions:
    st.info("No model has been trained yet. Train one, then compare them all here.")
    st.page_link("views/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()
by_id = {mv.id: mv for mv in versions}
every_version = versions

# -- scope: one dataset and target (the one last worked on); one click shows every task -------
known_tasks = ranking.tasks(versions)
scope_left, scope_right = st.columns([3, 2], vertical_alignment="bottom")
widened = scope_right.toggle("All datasets and targets", key="benchmarks.all_tasks",
                             help="Rank models of every task together; the best is still marked per task.")
if not widened:
    task = scope_left.selectbox("Dataset and target", known_tasks, format_func=ranking.task_label,
                                index=known_tasks.index(last_task(versions)), key="benchmarks.task")
    versions = ranking.in_task(versions, task)

# -- filters ----------------------------------------------------------------------------
with st.expander("Filters", expanded=False, icon=":material/filter_list:"):
    a, b, c, d = st.columns(4)
    dataset_names = sorted({mv.dataset_label.rpartition("@")[0] or mv.dataset_label for mv in versions})
    chosen_datasets = a.multiselect("Dataset", dataset_names, key="benchmarks.datasets")
    chosen_algorithms = b.multiselect("Algorithm", sorted({mv.algorithm for mv in versions}),
                                      key="benchmarks.algorithms", format_func=algorithm_label)
    chosen_problems = c.multiselect("Problem type", sorted({mv.problem_type for mv in versions}),
                                    key="benchmarks.problems")
    first, last = min(mv.created_at for mv in versions).date(), max(mv.created_at for mv in versions).date()
    period = d.date_input("Created between", (first, last), key=f"benchmarks.period.{first}.{last}")
since, until = (period if isinstance(period, tuple | list) and len(period) == 2 else (None, None))
if isinstance(period, dt.date):
    since = until = period

frame = None
with guard("Building the leaderboard"):
    frame = lb.leaderboard(versions, dataset=chosen_datasets or None, algorithm=chosen_algorithms or None,
                           problem_type=chosen_problems or None, since=since, until=until)
if frame is None or frame.empty:
    if frame is not None:
        st.info("No model version matches these filters.")
    st.stop()

labels = {row.id: mf.model_label(row.algorithm, row.name, row.version) for row in frame.itertuples()}
colours = model_colours(list(labels.values()))  # one colour per model in every chart of the page
scope = "every dataset and target" if widened else ranking.task_label(task)
scope_key = "all" if widened else "|".join(task)  # model pickers start afresh in another scope
st.caption(f"{len(frame)} of {len(versions)} model versions of {scope} ({len(every_version)} in all)")
with guard("Showing the leaderboard"):
    model_views.leaderboard_table(frame, groups=[ranking.task_of_version(by_id[i]) for i in frame["id"]])
left, right, _ = st.columns([1, 1, 2])
left.download_button("Download CSV", lambda: lb.to_csv_bytes(frame), file_name="leaderboard.csv",
                     mime="text/csv", key="benchmarks.csv", on_click="ignore", icon=":material/download:")
right.download_button("Download Excel", lambda: lb.to_excel_bytes(frame), file_name="leaderboard.xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      key="benchmarks.excel", on_click="ignore", icon=":material/download:")

# -- charts -----------------------------------------------------------------------------
st.subheader("Charts")
if widened and len({ranking.task_of_version(by_id[i]) for i in frame["id"]}) > 1:
    st.caption("The charts show models of several tasks: compare scores only within one dataset and target.")
numeric = [c for c in lb.metric_columns(frame) if not c.endswith("_std")]
metrics = [c for c in numeric if not c.endswith("_mean")] + [c.removesuffix("_mean") for c in numeric
                                                            if c.endswith("_mean")]
classifiers = [i for i in frame["id"] if by_id[i].problem_type in CLASSIFICATION_KINDS]
regressors = [i for i in frame["id"] if by_id[i].problem_type == "regression"]
bar_tab, curves_tab, pareto_tab, scatter_tab = st.tabs(
    ["Metric", "ROC and PR curves", "Score vs training time", "Predicted vs actual"])
with bar_tab, guard("Drawing the metric chart"):
    if metrics:
        metric = st.selectbox("Metric", metrics, key="benchmarks.bar_metric", format_func=metric_label)
        st.plotly_chart(cf.metric_bar_figure(frame, metric, colours), key="benchmarks.bar", width="stretch")
    else:
        st.info("The models shown have no metric with a known direction.")
with curves_tab, guard("Drawing the curves"):
    chosen = st.multiselect("Models", classifiers, default=classifiers[:3], format_func=labels.get,
                            key=f"benchmarks.curve_models.{scope_key}")
    if not classifiers:
        st.info("No classification model is shown.")
    elif chosen:
        cards = {labels[i]: by_id[i].card for i in chosen}
        roc_col, pr_col = st.columns(2)
        roc_col.plotly_chart(mf.roc_figure(cards, colours), key="benchmarks.roc", width="stretch")
        pr_col.plotly_chart(mf.pr_figure(cards, colours), key="benchmarks.pr", width="stretch")
with pareto_tab, guard("Drawing score against training time"):
    if metrics:
        score = st.selectbox("Score", metrics, key="benchmarks.pareto_metric", format_func=metric_label)
        st.plotly_chart(cf.pareto_figure(frame, score, colours=colours), key="benchmarks.pareto", width="stretch")
        st.caption("Joined: the Pareto front, models no other beats on both the score and the training time.")
with scatter_tab, guard("Drawing predicted against actual"):
    chosen = st.multiselect("Models", regressors, default=regressors[:2], format_func=labels.get,
                            key=f"benchmarks.scatter_models.{scope_key}")
    if not regressors:
        st.info("No regression model is shown.")
    elif chosen:
        st.plotly_chart(mf.predicted_vs_actual_figure({labels[i]: by_id[i].card for i in chosen}, colours),
                        key="benchmarks.scatter", width="stretch")

# -- one model, two side by side --------------------------------------------------------
st.subheader("Model details")
ids = list(frame["id"])
with guard("Showing the model"):
    one = st.selectbox("Model", ids, format_func=labels.get, key="benchmarks.detail")
    with st.expander(f"Results of {labels[one]}", expanded=False):
        model_views.render_model_results(by_id[one].card, by_id[one].metrics, key=f"benchmarks.results.{one}")

st.subheader("Side by side")
if len(ids) < 2:
    st.info("Two model versions are needed to compare; only one is shown.")
else:
    a_col, b_col = st.columns(2)
    first_id = a_col.selectbox("Model A", ids, format_func=labels.get, key="benchmarks.compare_a")
    same_kind = [i for i in ids if i != first_id and by_id[i].problem_type == by_id[first_id].problem_type]
    others = [i for i in ids if i != first_id]
    second_id = b_col.selectbox("Model B", ids, index=ids.index((same_kind or others)[0]), format_func=labels.get,
                                key="benchmarks.compare_b")
    with guard("Comparing the models"):
        model_views.compare_view(by_id[first_id], by_id[second_id], key="benchmarks.compare")

# -- registry ---------------------------------------------------------------------------
st.subheader("Registry")
names = sorted({mv.name for mv in every_version}, key=str.casefold)  # any model, whatever the scope above
name = st.selectbox("Model name", names, key="benchmarks.registry_name")
with guard("Showing the registry"):
    registry_views.registry_actions(ws, name, key="benchmarks.registry")
