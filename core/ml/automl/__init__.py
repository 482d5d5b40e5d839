"""AutoML: recommendations, a budgeted search, greedy ensembling, receipts, replay.

Modules, one job each: ``profile`` (dataset facts), ``recommend`` (the calibrated ranking, from
``priors.json``), ``spaces`` (per-algorithm starting points, portfolios and search spaces, as
data), ``guard`` (memory and time checks before a trial), ``trials`` (fit and score one
configuration), ``ensemble`` (greedy weighted selection), ``state`` (the user's choices and the
prepared data), ``loop`` (the trials within the budget), ``search`` (the run: loop, ensemble,
refit), ``receipt`` (what makes a run repeatable) and ``replay`` (refit the winner, compare).
The registry side (jobs, saving the receipt, registering the winner) is ``core.models.automl_runs``.
"""

from core.ml.automl.profile import DataProfile, profile_data
from core.ml.automl.receipt import Receipt, Winner
from core.ml.automl.recommend import Recommendation, recommend
from core.ml.automl.replay import ReplayResult, replay
from core.ml.automl.search import AutoMLResult, run_automl
from core.ml.automl.state import AutoMLConfig, prepare_search, recommend_for
from core.ml.automl.trials import TrialConfig, TrialRecord

__all__ = [
    "AutoMLConfig", "AutoMLResult", "DataProfile", "Receipt", "Recommendation", "ReplayResult", "TrialConfig",
    "TrialRecord", "Winner", "prepare_search", "profile_data", "recommend", "recommend_for", "replay", "run_automl",
]
