"""The HTTP prediction API (FastAPI on uvicorn): ``python -m core serve``.

``create_app`` builds the app; the modules each do one thing: ``payloads`` (bodies as rows),
``predictions`` (rows scored as batch scoring scores them), ``resolver`` (which version answers,
hot-switched on promote and rollback), ``auth`` (API keys), ``limits`` (body size, concurrency,
time), ``metrics`` (Prometheus), ``errors`` (JSON errors), ``routes`` and ``app``.
FastAPI is imported here and in ``core.cli.serve`` only.
"""

from core.serve.api.app import create_app

__all__ = ["create_app"]
