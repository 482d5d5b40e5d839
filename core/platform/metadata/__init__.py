"""Metadata store: SQLAlchemy models, sessions and Alembic migrations."""

from core.platform.metadata.db import Database
from core.platform.metadata.models import Base

__all__ = ["Base", "Database"]
