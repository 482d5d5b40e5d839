"""Choose a model and one of its versions; the production version, else the best one, is the default."""

from __future__ import annotations

import streamlit as st

from components.state import workspace
from core.ml.catalogue import algorithm_label
from core.models import registry
from core.models.ranking import best_version, primary_metric
from core.models.registry import ModelVersionInfo
from core.platform.display import metric_label

CURRENT = "model.current"  # (name, version) last chosen on any page


def pick_model(key: str, *, container=None) -> ModelVersionInfo | None:
    """Model name and version selects; ``None`` (with a pointer to Train) when there is no model yet.

    The version select lists newest first, each with its stage, and starts on
    the production version (else the best by the task's primary metric); a caption says which it is.
    """
    box = container or st
    names = registry.list_model_names(workspace())
    if not names:
        box.info("There are no models yet. Train one on the Train page.")
        box.page_link("views/train.py", label="Go to Train", icon=":material/model_training:")
        return None
    last_name, last_version = st.session_state.get(CURRENT, (names[0], None))
    left, right = box.columns([3, 2])
    name = left.selectbox("Model", names, index=names.index(last_name) if last_name in names else 0,
                          key=f"{key}.name")
    versions = registry.list_versions(workspace(), name)
    if not versions:  # deleted between the two reads
        box.warning(f"Model {name!r} has no versions left.")
        return None
    default = best_version(versions)
    numbers = [v.version for v in versions][::-1]
    by_number = {v.version: v for v in versions}
    start = last_version if name == last_name and last_version in by_number else default.version
    chosen = right.selectbox(
        "Version", numbers, index=numbers.index(start), key=f"{key}.version.{name}",
        format_func=lambda n: f"v{n} · {by_number[n].stage} · {algorithm_label(by_number[n].algorithm)}",
    )
    version = by_number[chosen]
    st.session_state[CURRENT] = (version.name, version.version)
    if version.version == default.version:
        metric = primary_metric(default.problem_type)
        which = "the production version" if default.stage == "production" else \
            f"the best by {metric_label(metric)} (none is in production)" if metric else \
            "the latest version (none is in production)"
        box.caption(f"Using {version.label}, {which}.")
    else:
        box.caption(f"Using {version.label} ({version.stage}); the default would be {default.label} "
                    f"({default.stage}).")
    return version
