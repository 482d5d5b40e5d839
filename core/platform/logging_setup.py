"""Logging for Atelier's long-running processes (the app's server, the job worker, a job).

Records go to stderr (the server's terminal, or the job's log file) from INFO up, minus one library's noise:
matplotlib logs a warning for every pyparsing deprecation it meets while reading its bundled style files
(``'parseString' deprecated``), on every process that imports ``matplotlib.style`` (shap does). They say
nothing about the user's work and would fill every job log, so that logger shows errors only.
"""

from __future__ import annotations

import logging

__all__ = ["configure_logging"]

NOISY = ("matplotlib.style",)


def configure_logging(fmt: str | None = None) -> None:
    """INFO and up to stderr, as ``logging.basicConfig`` (which does nothing when handlers exist), less the
    libraries' noise."""
    logging.basicConfig(level=logging.INFO, **({"format": fmt} if fmt else {}))
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.ERROR)
