"""Problem kinds (core.data.target): one enum, stored as text, read by every stage."""

from __future__ import annotations

import json

import pytest

from core.data.target import CLASSIFICATION_KINDS, ProblemDetection, ProblemKind
from core.eda.target import KINDS, problem_kind
from core.ml.catalogue import task_of
from core.ml.config import PROBLEM_KINDS, TrainConfig
from core.platform.errors import InvalidInputError


def test_kinds_compare_equal_to_their_stored_text():
    assert [k.value for k in ProblemKind] == ["binary", "multiclass", "regression", "clustering"]
    assert ProblemKind.BINARY == "binary" and ProblemKind("multiclass") is ProblemKind.MULTICLASS
    assert json.dumps({"kind": ProblemKind.REGRESSION}) == '{"kind": "regression"}'
    assert f"{ProblemKind.CLUSTERING}" == "clustering"
    assert "binary" in CLASSIFICATION_KINDS and "regression" not in CLASSIFICATION_KINDS
    assert PROBLEM_KINDS == ("binary", "multiclass", "regression", "clustering")


@pytest.mark.parametrize(
    ("kind", "classification", "task"),
    [("binary", True, "classification"), ("multiclass", True, "classification"),
     ("regression", False, "regression"), ("clustering", False, "clustering")],
)
def test_classification_and_task(kind, classification, task):
    assert ProblemKind(kind).is_classification is classification
    assert ProblemKind(kind).task == task == task_of(kind)


def test_a_detection_keeps_its_kind_as_the_enum_and_its_json_as_text():
    detected = ProblemDetection("binary", "chosen")
    assert detected.kind is ProblemKind.BINARY and detected.is_classification
    assert detected.to_dict() == {"kind": "binary", "reason": "chosen"}
    assert type(detected.to_dict()["kind"]) is str


def test_eda_asks_a_task_and_accepts_the_problem_kinds():
    assert KINDS == ("classification", "regression")
    assert [problem_kind(k) for k in ("binary", "multiclass", "regression", "classification")] == [
        "classification", "classification", "regression", "classification"]
    with pytest.raises(InvalidInputError, match="The 'kind' parameter must be one of 'classification', 'regression'; "
                                                "got 'clustering'."):
        problem_kind("clustering")


def test_a_run_refuses_an_unknown_kind():
    with pytest.raises(InvalidInputError, match="The 'problem_kind' parameter of TrainConfig must be one of 'binary', "
                                                "'multiclass', 'regression', 'clustering'. Got 'ranking' instead."):
        TrainConfig(problem_kind="ranking")
