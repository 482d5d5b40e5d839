"""The Data page's quality view: placeholders flagged per column, fixed in one click as a new version."""

from __future__ import annotations

import pandas as pd

from core.data import datasets
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.app.conftest import texts


def test_placeholders_are_flagged_and_fixed_as_a_new_version(app):
    ws = Workspace.open(Settings.load())
    frame = pd.DataFrame({"age": [39, 50, 38, 53] * 10,
                          "workclass": [" State-gov", " ?", " Private", " ?"] * 10,
                          "income": ["<=50K", ">50K", "<=50K", ">50K"] * 10})
    version = datasets.save_version(ws, "adult", frame, provenance={"source": "test"})
    app.session_state["data.goto"] = "Datasets"  # the view the page opens when datasets exist
    app.run()
    assert not app.exception, app.exception
    quality = next(df.value for df in app.dataframe if "finding" in df.value.columns)
    row = quality[quality["check"] == "placeholders"].iloc[0]
    assert row["column"] == "workclass" and "' ?' ×20" in row["finding"]
    app.button(key=f"data.fix_placeholders.{version.id}").click().run()
    assert not app.exception, app.exception
    latest = datasets.get_version(ws, "adult")
    assert latest.version == 2 and latest.parent_id == version.id
    fixed = datasets.load_frame(ws, latest)
    assert fixed["workclass"].isna().sum() == 20 and set(fixed["workclass"].dropna()) == {"State-gov", "Private"}
    assert "Saved adult@2 with placeholders as missing values." in texts(app.success)
    assert not [k for k in (b.key for b in app.button) if k == f"data.fix_placeholders.{latest.id}"]
