"""Atelier core: the pure-Python engine behind the app and the command line.

Nothing in this package imports Streamlit; pages call into it, never the reverse.
"""

__version__ = "0.1.0"
