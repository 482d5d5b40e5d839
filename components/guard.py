"""The error boundary every page action runs inside.

``AtelierError``s are shown as they are (message + hint).  Anything else is a
bug: the user sees a short message with a reference id, the traceback goes to
the server log.  Streamlit's own control flow (rerun, stop) passes through,
since it derives from ``BaseException``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from core.platform.errors import AtelierError

log = logging.getLogger("atelier.app")


def show_error(exc: BaseException, action: str = "") -> None:
    if isinstance(exc, AtelierError):
        st.error(exc.message, icon=":material/error:")
        if exc.hint:
            st.caption(exc.hint)
        return
    ref = uuid.uuid4().hex[:8]
    log.error("%s failed (ref %s)", action or "action", ref, exc_info=exc)
    what = f"{action} failed" if action else "Something went wrong"
    st.error(f"{what}: an unexpected error occurred (reference {ref}). The details are in the server log.",
             icon=":material/report:")


@contextmanager
def guard(action: str = "") -> Iterator[None]:
    """``with guard("Importing the file"): …`` shows any failure in the page."""
    try:
        yield
    except Exception as exc:
        show_error(exc, action)
