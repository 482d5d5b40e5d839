"""The API's garbage-collector handling and the monitor's sampled rows, without a server."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pandas as pd
import pytest

from core.data import datasets
from core.models import registry
from core.serve.api.gc_pause import freeze_heap, gc_paused
from core.serve.api.monitor import ServeMonitor, _Window
from core.serve.api.payloads import Rows
from core.serve.api.resolver import ModelResolver
from core.serve.api.traffic import Traffic
from core.serve.validation import validate_row
from tests.support.models import train_sample


def _plain(value):
    return None if pd.isna(value) else value.item() if isinstance(value, np.generic) else value


class _Node:
    pass


def test_freeze_heap_keeps_live_objects_out_of_collections_and_thaws_the_earlier_ones():
    gc.unfreeze()
    try:
        node = _Node()
        node.me = node  # a cycle: only the cyclic collector can free it
        gone = weakref.ref(node)
        freeze_heap()
        assert gc.get_freeze_count() > 0 and gc.isenabled()
        del node
        gc.collect()
        assert gone() is not None  # frozen: full collections skip it
        freeze_heap()  # a later load (a model evicted since, say) thaws and collects first
        assert gone() is None
        with gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_loading_a_model_freezes_it(ws):
    [info] = train_sample(ws, "titanic", ["lightgbm"])
    registry.promote(ws, info.name, info.version)
    gc.unfreeze()
    try:
        ModelResolver(ws).production(info.name)
        assert gc.get_freeze_count() > 0  # the model's objects (and all else alive) left the collections
    finally:
        gc.unfreeze()


def test_the_sampled_one_row_requests_convert_together_as_each_did_alone(ws):
    [info] = train_sample(ws, "titanic", ["lightgbm"])
    model = ModelResolver(ws).version(info.name, info.version)
    version = datasets.get_version(ws, "titanic")
    frame = datasets.load_frame(ws, version).drop(columns=[version.target]).head(60)
    records = [{k: _plain(v) for k, v in r.items()} for r in frame.astype(object).to_dict("records")]
    window = _Window(model, rows=[Rows(None, list(r), row=r) for r in records[:50]])
    window.rows.append(Rows(frame.iloc[50:], list(frame.columns)))  # a many-row request among them
    got = ServeMonitor._sampled_frame(window)
    alone = pd.concat([validate_row(model.reference, r)[1] for r in records], ignore_index=True)
    assert len(got) == 60
    pd.testing.assert_frame_equal(got, alone)


def test_traffic_adds_a_whole_answer_as_the_rows_one_by_one_would():
    rng = np.random.default_rng(0)
    batches = [rng.normal(5, 2, size=n).tolist() for n in (1, 7, 1000)]
    traffic = Traffic()
    for scores in batches:
        traffic.observe("r", "production", 1, 0.01, ok=True, rows=len(scores),
                        values=[*scores, None])
    [regression] = traffic.snapshot("r")
    every = np.concatenate(batches)
    assert regression["mean"] == pytest.approx(every.mean()) and regression["std"] == pytest.approx(every.std(ddof=1))
    assert "class_mix" not in regression  # a missing score is neither a score nor a class
    labels = ["yes", "no", "yes", 1, "1"]  # 1 and "1" read the same in JSON: one class
    traffic.observe("c", "production", 1, 0.01, ok=True, rows=5,
                    values=labels, classifier=True)
    [classifier] = traffic.snapshot("c")
    assert classifier["class_mix"] == {"yes": 0.4, "1": 0.4, "no": 0.2} and "mean" not in classifier


@pytest.mark.parametrize("classes", [[0, 1], ["a", "b", "c"]])
def test_answers_hold_each_rows_probabilities_by_label(classes):
    from types import SimpleNamespace

    from core.serve.api.predictions import _answers

    proba = np.random.default_rng(1).dirichlet(np.ones(len(classes)), size=50)
    prediction = np.asarray(classes)[proba.argmax(axis=1)]
    got = _answers(SimpleNamespace(classes=classes), prediction, proba)
    expected = [{"prediction": p.item(), "probabilities": dict(zip(map(str, classes), map(float, row), strict=True))}
                for p, row in zip(prediction, proba, strict=True)]
    assert got == expected
