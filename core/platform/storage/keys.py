"""The layout of keys inside an artifact store, in one place.

Dataset files and reports are content-addressed (a re-import of the same bytes reuses the
file); models and prediction outputs are keyed by their registry ids.
"""

from __future__ import annotations


def dataset_file(sha256: str) -> str:
    """A dataset version's Parquet file, by the sha256 of its bytes."""
    return f"datasets/{sha256}.parquet"


def reports_prefix(dataset_sha256: str) -> str:
    """Everything derived from one dataset file (profiling reports and their info)."""
    return f"reports/{dataset_sha256}/"


def profile_report(dataset_sha256: str) -> str:
    return reports_prefix(dataset_sha256) + "profile.html"


def profile_info(dataset_sha256: str) -> str:
    return reports_prefix(dataset_sha256) + "profile.json"


def model_file(model_id: int, version: int) -> str:
    return f"models/{model_id}/v{version}/model.skops"


def prediction_output(model_name: str, version: int, millis: int) -> str:
    return f"predictions/{model_name}/v{version}/{millis}.parquet"
