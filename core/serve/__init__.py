"""Serving: predictions from registered models and what they teach about new data.

* ``loaded`` – a verified, loaded model version and the cache of them;
* ``one_row`` / ``batch`` / ``outputs`` – scoring a row, a file (as a job), and their outputs;
* ``validation`` / ``validation_report`` / ``coercion`` – new data checked and converted to the
  training types;
* ``scoring`` / ``compiled_trees`` – one pass through the model, compiled LightGBM trees;
* ``drift`` / ``health`` / ``prediction_runs`` – drift of new data, health over time, run records;
* ``retrain`` – the same settings on a newer dataset version.
"""
