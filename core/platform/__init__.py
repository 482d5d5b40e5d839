"""The platform every stage stands on: settings, errors, progress, storage, metadata, jobs.

* ``config`` – :class:`Settings` from environment variables or Streamlit secrets;
* ``errors`` – :class:`AtelierError` and its kinds, each carrying a message a user can act on;
* ``progress`` – the one progress callback type and the job-context protocol;
* ``storage`` – artifact stores chosen by URL (local folder, S3/R2/MinIO) and the key layout;
* ``metadata`` – the SQLAlchemy schema and its Alembic migrations;
* ``workspace`` – settings, store and database opened together;
* ``jobs`` – background jobs: records, context, runner, launch, the warm worker, supervision.

Nothing here imports a stage above it; job bodies are named by ``"module:function"`` strings.
"""
