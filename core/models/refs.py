"""Model names and references: what a registered model may be called and how a version is named.

References: ``NAME`` (production, else the latest), ``NAME@production``,
``NAME@staging``, ``NAME@archived``, ``NAME@latest`` and ``NAME:3`` (or
``NAME@3``).  That is why a model name may hold neither ``@`` nor ``:``.
Pure text rules, no database: :mod:`core.models.registry` applies them.
"""

from __future__ import annotations

import re

import numpy as np

from core.platform.errors import InvalidInputError

__all__ = ["NAME_MAX", "STAGES", "check_stage", "check_version_number", "default_model_name", "parse_ref",
           "validate_model_name"]

STAGES = ("none", "staging", "production", "archived")
NAME_MAX = 200
_NAME_OK = re.compile(r"^\w[\w .()+\-·,]*$")
_NAME_BAD_CHAR = re.compile(r"[^\w .()+\-·,]")
_REF_HINT = ("Write NAME, NAME@production, NAME@staging, NAME@latest or NAME:VERSION "
             "(for example 'titanic · Survived:2').")


def validate_model_name(name: str) -> str:
    """Return the cleaned model name or raise with what a valid one looks like."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise InvalidInputError("The model name is empty.", hint="Type a short name such as 'titanic · Survived'.")
    if len(cleaned) > NAME_MAX:
        raise InvalidInputError(
            f"The model name is {len(cleaned)} characters long; the limit is {NAME_MAX}.", hint="Choose a shorter name."
        )
    if not _NAME_OK.match(cleaned):
        raise InvalidInputError(
            f"The model name {cleaned!r} contains characters that are not allowed.",
            hint="Use letters, digits, spaces and . _ - ( ) + , ·, starting with a letter or digit "
            "('@' and ':' are reserved: they mark a stage or a version).",
        )
    return cleaned


def default_model_name(dataset_name: str, target: str | None) -> str:
    """``'titanic-Survived'``: the dataset and the target, made a valid model name.

    Plain ASCII punctuation, so the name is easy to type on a command line.
    Characters a name may not hold (``@``, ``:``, ``/`` …) become ``_``;
    a model without a target (clustering) is named ``'<dataset>-clusters'``.
    """
    target_part = str(target).strip() if target is not None and str(target).strip() else "clusters"
    text = f"{(dataset_name or '').strip() or 'model'}-{target_part}"
    text = " ".join(_NAME_BAD_CHAR.sub("_", text).split())
    if not _NAME_OK.match(text):
        text = f"model {text}"
    return text[:NAME_MAX].rstrip(" -")


def parse_ref(ref: str) -> tuple[str, int | None, str | None]:
    """``'m:3'`` → ``('m', 3, None)``; ``'m@staging'`` → ``('m', None, 'staging')``; ``'m'`` → ``('m', None, None)``."""
    text = (ref or "").strip()
    if not text:
        raise InvalidInputError("The model reference is empty.", hint=_REF_HINT)
    if ":" in text:
        name, _, tail = text.rpartition(":")
        number = tail.strip().lower().removeprefix("v")
        if not number.isdigit():
            raise InvalidInputError(f"{ref!r} does not name a model version: after ':' comes a number.", hint=_REF_HINT)
        return name.strip(), int(number), None
    if "@" in text:
        name, _, tail = text.rpartition("@")
        tail = tail.strip().lower()
        if tail.isdigit():
            return name.strip(), int(tail), None
        if tail in {"production", "staging", "archived", "latest"}:
            return name.strip(), None, tail
        raise InvalidInputError(f"{ref!r} does not name a stage: {tail!r} is not one of production, staging, "
                                "archived or latest.", hint=_REF_HINT)
    return text, None, None


def check_stage(stage: str) -> str:
    """``stage`` when it is one of ``STAGES``; InvalidInputError otherwise."""
    if stage not in STAGES:
        raise InvalidInputError(f"The stage must be one of {', '.join(STAGES)}; got {stage!r}.")
    return stage


def check_version_number(version: int) -> int:
    """``version`` as an int when it is a whole number from 1 up; InvalidInputError otherwise."""
    if isinstance(version, bool) or not isinstance(version, int | np.integer) or version < 1:
        raise InvalidInputError(f"A model version is a whole number from 1 up; got {version!r}.")
    return int(version)
