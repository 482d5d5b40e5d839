"""core.models.card: a real card round-trips unchanged, old cards load with defaults, unknown keys are kept."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from core.data import datasets
from core.data.ingest import import_sample
from core.ml.config import SplitConfig, TrainConfig
from core.ml.train import train_candidate
from core.models import figures as mf
from core.models import registry
from core.models.card import CardDataset, CardProblem, ModelCard
from core.models.training import model_card, train_version
from core.models.training_stats import build_reference
from core.platform.config import Settings
from core.platform.errors import InvalidInputError
from core.platform.metadata.models import ModelVersion
from core.platform.workspace import Workspace

CONFIG = TrainConfig(target="survived", explain=True, split=SplitConfig(cv_folds=3))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    """One logistic regression on the titanic sample: (workspace, dataset version, its version, stored JSON)."""
    ws = Workspace.open(Settings(home=Path(tmp_path_factory.mktemp("card")) / "home"))
    version = import_sample(ws, "titanic")
    rows = train_version(ws, version, CONFIG, ["logistic_regression"])
    assert rows[0]["status"] == "ok", rows[0]["error"]
    mv = registry.get_version(ws, rows[0]["model"])
    with ws.db.session() as s:
        stored = json.loads(json.dumps(s.get(ModelVersion, mv.id).card))
    yield ws, version, mv, stored
    ws.db.dispose()


# -- a real card ---------------------------------------------------------------------------
def test_a_real_card_round_trips_unchanged_keys_in_order(trained):
    _, _, mv, stored = trained
    card = ModelCard.from_dict(stored)
    assert card == mv.card and card.extra == {}
    assert json.dumps(card.to_dict()) == json.dumps(stored)  # same keys, same order, same values
    assert ModelCard.from_dict(card.to_dict()) == card


def test_a_real_card_reads_through_attributes(trained):
    _, version, mv, stored = trained
    card = mv.card
    assert (card.algorithm, card.label, card.kind, card.target) == (
        "logistic_regression", "Logistic regression", "binary", "survived")
    assert card.problem == CardProblem("binary", stored["problem"]["reason"])
    assert card.dataset == CardDataset(version.label, version.id, version.sha256) and card.dataset_label == "titanic@1"
    assert card.is_classification and not card.is_clustering and card.title == "Logistic regression"
    assert card.classes == (0, 1) and card.positive_label == 1
    assert set(card.features) == set(card.feature_types) == {f["name"] for f in card.reference["features"]}
    assert card.metrics == stored["metrics"] and card.cv["accuracy"]["mean"] > 0.5
    assert card.has_shap and card.drops_text and card.importance_method == "native"
    assert card.library_versions["scikit-learn"] and card.config["algorithm"] == "logistic_regression"
    assert card.model_sha256 and card.model_size_bytes > 0 and card.status == "ok" and card.error is None


def test_the_stored_json_is_what_training_wrote_before_the_card_was_typed(trained):
    ws, version, _, _ = trained
    config = replace(CONFIG, algorithm="logistic_regression", roles=version.roles)
    result = train_candidate(datasets.load_frame(ws, version), config)
    legacy = result.to_dict()  # what model_card built by hand until cards were typed
    legacy["dataset"] = {"label": version.label, "version_id": version.id, "sha256": version.sha256}
    legacy["reference"] = build_reference(result.train_frame, result.features)
    typed = model_card(result, version)
    assert isinstance(typed, ModelCard)
    assert json.dumps(registry.plain_json(typed.to_dict())) == json.dumps(registry.plain_json(legacy))


# -- old cards -----------------------------------------------------------------------------
OLD = {  # a card as an earlier version might have stored it: most parts missing, importances as records
    "algorithm": "random_forest", "kind": "regression", "metrics": {"rmse": 2.0},
    "importances": [{"feature": "a", "importance": 0.7}, {"feature": "b", "importance": 0.3}],
}


def test_an_old_card_with_parts_missing_loads_with_defaults():
    card = ModelCard.from_dict(OLD)
    assert (card.algorithm, card.label, card.kind, card.title) == ("random_forest", "", "regression", "random_forest")
    assert card.problem is None and card.status == "ok" and card.error is None
    assert card.params == card.preprocessing == card.feature_types == card.split == card.cv == card.curves == {}
    assert card.features == card.notes == card.warnings == () and card.classes is None and card.target is None
    assert card.importance_method == "none" and card.shap is None and card.tuning is None
    assert card.model_sha256 is None and card.model_size_bytes == 0 and card.library_versions == card.config == {}
    assert card.dataset is None and card.dataset_label == "" and card.reference is None
    assert not card.is_classification and not card.has_shap and not card.drops_text and card.positive_label is None
    assert mf.importance_series(card).to_dict() == {"a": 0.7, "b": 0.3}
    assert ModelCard.from_dict({}) == ModelCard.from_dict(None) == ModelCard()


def test_parts_of_the_wrong_shape_read_as_their_defaults():
    card = ModelCard.from_dict({"features": None, "notes": "one note", "curves": None, "model_size_bytes": None,
                                "dataset": "titanic@1", "problem": ["binary"], "label": 3, "shap": []})
    assert card.features == card.notes == () and card.curves == {} and card.model_size_bytes == 0
    assert card.dataset is None and card.problem is None and card.label == "" and card.shap is None


def test_an_old_card_in_the_registry_still_loads(ws):
    mv = registry.register_version(
        ws, "old", model_bytes=b"bytes", algorithm="random_forest", problem_type="regression", target="y",
        dataset_version_id=None, dataset_label="d@1", metrics={"rmse": 2.0}, card=OLD, train_seconds=1.0)
    assert registry.get_version(ws, "old:1").card == mv.card == ModelCard.from_dict(OLD)
    with ws.db.session() as s:
        assert s.get(ModelVersion, mv.id).card == OLD  # stored as given, not filled with defaults


# -- unknown keys --------------------------------------------------------------------------
def test_unknown_keys_are_kept_and_written_back_after_the_known_ones(trained):
    _, _, _, stored = trained
    newer = {**stored, "fairness": {"groups": ["a", "b"]}, "owner": "data team"}
    card = ModelCard.from_dict(newer)
    assert card.extra == {"fairness": {"groups": ["a", "b"]}, "owner": "data team"}
    assert card.to_dict() == newer and list(card.to_dict())[-2:] == ["fairness", "owner"]
    assert card.algorithm == "logistic_regression"  # the known parts read as before


# -- the card in its readers ---------------------------------------------------------------
def test_a_version_given_a_dict_reads_it_into_a_card_and_figures_take_either(trained):
    _, _, mv, stored = trained
    assert replace(mv, card=stored).card == mv.card
    assert mf.importance_series(stored).equals(mf.importance_series(mv.card))
    with pytest.raises(InvalidInputError, match="A model card must be a dict or a ModelCard; got list instead"):
        ModelCard.of(["not", "a", "card"])


@pytest.mark.parametrize(("kind", "classification", "clustering"), [
    ("binary", True, False), ("multiclass", True, False), ("regression", False, False), ("clustering", False, True),
])
def test_problem_kind_helpers(kind, classification, clustering):
    card = ModelCard(kind=kind)
    assert (card.is_classification, card.is_clustering) == (classification, clustering)
