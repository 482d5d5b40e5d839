"""The Train page's settings widgets; each returns plain data for ``TrainConfig.from_dict``."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.data.datasets import VersionInfo
from core.ml import config as ml_config
from core.ml.catalogue import algorithms_for, default_algorithms

_SPLIT_LABELS = {"auto": "auto (stratified for classification)", "random": "random", "stratified": "stratified",
                 "time": "time-based (train on the past)", "group": "grouped by an id column"}


def split_settings(version: VersionInfo, kind: str) -> dict:
    left, middle, right, far = st.columns([3, 2, 2, 2])  # the split's words need the room: never cut at 1280 px
    split_kind = left.selectbox("Split", ml_config.SPLIT_KINDS, format_func=_SPLIT_LABELS.get, key="train.split")
    test_size = middle.slider("Test fraction", 0.05, 0.5, 0.2, 0.05, key="train.test_size")
    # Keyed by the kind's family: a page first drawn without a target (clustering, 0 folds) gets 5 folds the
    # moment a target is chosen, instead of keeping the clustering widget's 0.
    supervised = kind != "clustering"
    cv_folds = right.number_input("CV folds (0 = none)", 0, 20, 5 if supervised else 0,
                                  key="train.cv" if supervised else "train.cv.clustering")
    seed = far.number_input("Seed", 0, 2**31 - 1, 0, key="train.seed")
    split = {"kind": split_kind, "test_size": float(test_size), "cv_folds": int(cv_folds), "seed": int(seed)}
    if split_kind == "time":
        choices = version.columns_with_role("datetime") or [c["name"] for c in version.schema
                                                            if c.get("logical_type") == "datetime"] or version.columns
        split["time_column"] = st.selectbox("Time column", choices, key="train.time_column")
    if split_kind == "group":
        choices = version.columns_with_role("id") or version.columns
        split["group_column"] = st.selectbox("Group column", choices, key="train.group_column")
    return split


def preprocessing_settings() -> dict:
    with st.expander("Preprocessing (defaults suit each algorithm family)"):
        a, b, c = st.columns(3)
        values = {
            "imputation": a.selectbox("Imputation", ml_config.IMPUTATIONS, key="train.imputation"),
            "scaling": b.selectbox("Scaling", ml_config.SCALINGS, key="train.scaling"),
            "encoding": c.selectbox("Categorical encoding", ml_config.ENCODINGS, key="train.encoding"),
            "max_categories": int(a.number_input("One-hot cap", 2, 500, 20, key="train.max_categories")),
            "datetime": b.selectbox("Datetime columns", ml_config.DATETIME_HANDLING, key="train.datetime"),
            "text": c.selectbox("Free-text columns", ml_config.TEXT_HANDLING, key="train.text"),
            "selection": a.selectbox("Feature selection", ml_config.SELECTIONS, key="train.selection"),
            "k_best": int(b.number_input("k (for k-best)", 1, 10_000, 20, key="train.k_best")),
            "imbalance": c.selectbox("Class imbalance", ml_config.IMBALANCE, key="train.imbalance"),
        }
        indicators = a.selectbox("Missing indicators", ["auto", "yes", "no"], key="train.indicators")
        values["missing_indicators"] = {"auto": None, "yes": True, "no": False}[indicators]
    return values


def tuning_settings() -> dict | None:
    if not st.toggle("Tune hyperparameters with Optuna", key="train.tune"):
        return None
    a, b, c = st.columns(3)
    trials = int(a.number_input("Trials", 1, 1000, 20, key="train.trials"))
    budget = b.number_input("Time budget per algorithm (s, 0 = none)", 0, 86_400, 0, key="train.budget")
    folds = int(c.number_input("CV folds while tuning", 2, 10, 3, key="train.tune_folds"))
    pruning = st.checkbox("Prune bad trials early", value=True, key="train.pruning")
    return {"n_trials": trials, "timeout": float(budget) or None, "cv_folds": folds, "pruning": pruning}


def catalogue_table(kind: str) -> pd.DataFrame:
    return pd.DataFrame([
        {"algorithm": a.label, "key": a.key, "speed": "●" * a.speed, "interpretability": "●" * a.interpretability,
         "missing values": "native" if a.handles_missing else "imputed",
         "categories": "native" if a.handles_categorical else "encoded", "GPU": "yes" if a.gpu else "",
         "about": a.description}
        for a in algorithms_for(kind)
    ])


def algorithm_choice(kind: str) -> list[str]:
    entries = algorithms_for(kind)
    labels = {a.key: a.label for a in entries}
    chosen = st.multiselect("Algorithms", list(labels), default=default_algorithms(kind), format_func=labels.get,
                            key=f"train.algorithms.{kind}")
    with st.expander("About the algorithms"):
        st.dataframe(catalogue_table(kind), hide_index=True, width="stretch")
    return chosen
