"""Atelier core: the pure-Python engine behind the app, the command line and (later) the HTTP API.

Stages import only downward, checked by import-linter in the test command::

    cli -> serve -> models -> ml -> eda -> data -> platform

* ``platform`` – settings, errors, progress reporting, artifact storage, metadata, jobs;
* ``data`` – sources, logical types, schema, quality, the dataset catalogue, ingest;
* ``eda`` – statistics and figures, the leakage screen, profiling reports;
* ``ml`` – problem kinds, preprocessing, the algorithm catalogue, training, tuning, evaluation;
* ``models`` – the registry, model cards, training statistics, leaderboard and figures;
* ``serve`` – loaded models, one-row and batch scoring, validation, drift, health, retraining;
* ``cli`` – ``python -m core``.

Nothing in this package imports Streamlit; pages call into it, never the reverse.
"""

__version__ = "0.1.0"
