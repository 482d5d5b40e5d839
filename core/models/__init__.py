"""Models: trained pipelines as registered, described and compared versions.

* ``registry`` – model names, versions, stages, promote and roll back;
* ``refs`` – model names and references (``NAME``, ``NAME@production``, ``NAME:3``);
* ``card`` – the typed model card;
* ``training`` – a training run that registers each model it fits, as a job;
* ``training_stats`` – the training data's statistics kept with each model (for forms,
  validation and drift);
* ``leaderboard`` / ``figures`` / ``comparison_figures`` – comparing models.
"""
