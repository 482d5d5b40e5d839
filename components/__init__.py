"""Reusable Streamlit pieces: the error guard, the job panel, pickers, charts.

Direction of imports: app.py → pages → components → core.  Cached wrappers
(``st.cache_data`` / ``st.cache_resource``) live here, never in ``core``.
"""
