"""Metadata store: SQLAlchemy models, sessions and Alembic migrations."""

from core.metadata.db import Database
from core.metadata.models import Base

__all__ = ["Base", "Database"]
