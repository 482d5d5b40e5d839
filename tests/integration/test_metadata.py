"""Migrations and models agree, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from core.platform.errors import InvalidInputError, StorageError
from core.platform.metadata import Base, Database
from core.platform.metadata.models import ModelVersion, RegisteredModel


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'meta.db'}"
    return request.getfixturevalue("pg_url")


def test_upgrade_from_empty_creates_every_table(db_url):
    db = Database(db_url)
    assert db.current_revision() is None
    db.upgrade()
    assert db.current_revision() is not None
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    db.upgrade()  # idempotent
    db.dispose()


def test_models_and_migrations_agree(db_url):
    db = Database(db_url)
    db.upgrade()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    db.dispose()
    assert diff == []


def test_single_production_version_is_enforced_by_the_database(db_url):
    db = Database(db_url)
    db.upgrade()
    with db.session() as s:
        model = RegisteredModel(name="m")
        s.add(model)
        s.flush()
        s.add_all([
            ModelVersion(model_id=model.id, version=1, stage="production", algorithm="a", problem_type="binary"),
            ModelVersion(model_id=model.id, version=2, stage="staging", algorithm="a", problem_type="binary"),
        ])
    with pytest.raises(DBIntegrityError):
        with db.session() as s:
            s.add(ModelVersion(model_id=model.id, version=3, stage="production", algorithm="a",
                               problem_type="binary"))
    db.dispose()


def test_unreachable_database_says_which_and_why():
    db = Database("postgresql+psycopg://atelier:secret@127.0.0.1:9/nowhere")
    with pytest.raises(StorageError, match=r"postgresql\+psycopg://atelier:\*\*\*@127.0.0.1:9/nowhere cannot be used"):
        db.check()


def test_malformed_database_url():
    with pytest.raises(InvalidInputError, match="is not a database URL"):
        Database("not a url")
