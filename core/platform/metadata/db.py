"""Connections to the metadata database and its migrations.

SQLite (the embedded default) gets WAL mode and a busy timeout so that a
job process can write while the app reads.  PostgreSQL behind a pooler in
transaction mode (pgbouncer; Supabase's pooler on port 6543) gets no prepared
statements: each transaction may land on another server connection, which
has never seen them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.platform.config import redact_url
from core.platform.errors import InvalidInputError, StorageError

MIGRATIONS = Path(__file__).with_name("migrations")
TRANSACTION_POOLER_PORT = 6543  # Supabase's transaction pooler (its session pooler and Postgres: 5432)


def uses_transaction_pooler(url: str, pooler: str = "auto") -> bool:
    """Whether connections to ``url`` go through a pooler in transaction mode (``pooler``: the
    ATELIER_DATABASE_POOLER setting; ``auto`` recognises Supabase's port)."""
    if pooler != "auto":
        return pooler == "transaction"
    parsed = make_url(url)
    return parsed.get_backend_name() == "postgresql" and parsed.port == TRANSACTION_POOLER_PORT


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL never corrupts the file (a power cut may lose the last commits, not the
    # database) and skips the fsync per commit: a job's log lines and progress rows cost ~2 ms, not ~11.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Database:
    """An engine, a session factory and the migration entry point."""

    def __init__(self, url: str, pooler: str = "auto") -> None:
        self.url = url
        self.shown_url = redact_url(url)
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise InvalidInputError(
                f"ATELIER_DATABASE_URL {self.shown_url!r} is not a database URL.",
                hint="Use sqlite:///path/atelier.db or postgresql+psycopg://user:password@host:5432/db.",
            ) from exc
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict = {"pool_pre_ping": True}
        self.transaction_pooler = not self.is_sqlite and uses_transaction_pooler(url, pooler)
        if not self.is_sqlite:
            kwargs["connect_args"] = {"connect_timeout": 5}
            if self.transaction_pooler and parsed.get_driver_name() == "psycopg":
                kwargs["connect_args"]["prepare_threshold"] = None  # psycopg 3 prepares repeated queries
        try:
            self.engine: Engine = create_engine(url, **kwargs)
        except (ArgumentError, ImportError, SQLAlchemyError) as exc:
            raise StorageError(
                f"The metadata database {self.shown_url} cannot be opened: {exc}",
                hint="Check ATELIER_DATABASE_URL and that its driver is installed.",
            ) from exc
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            raise self._unreachable(exc) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def check(self) -> None:
        """Raise StorageError with the reason if the database cannot be used."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise self._unreachable(exc) from exc

    def _unreachable(self, exc: SQLAlchemyError) -> Exception:
        from sqlalchemy.exc import IntegrityError as DBIntegrityError

        if isinstance(exc, DBIntegrityError):
            return exc  # a constraint: the caller translates it into its own words
        reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
        return StorageError(
            f"The metadata database {self.shown_url} cannot be used: {reason}",
            hint="Check ATELIER_DATABASE_URL, that the server is running and reachable, and the credentials.",
        )

    def _alembic_config(self):
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return cfg

    def upgrade(self) -> None:
        """Bring the schema to the newest migration; never drops a row."""
        from alembic import command

        try:
            with self.engine.connect() as conn:
                if self.is_sqlite:  # before the transaction begins: inside one the pragma does nothing
                    self._foreign_keys(conn, on=False)
                try:
                    with conn.begin():
                        cfg = self._alembic_config()
                        cfg.attributes["connection"] = conn
                        command.upgrade(cfg, "head")
                        if self.is_sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                            raise StorageError(f"Upgrading {self.shown_url} left rows pointing at missing ones.",
                                               hint="Restore the database from its backup and report this.")
                finally:
                    if self.is_sqlite:
                        self._foreign_keys(conn, on=True)
        except SQLAlchemyError as exc:
            raise self._unreachable(exc) from exc

    @staticmethod
    def _foreign_keys(conn, *, on: bool) -> None:
        """SQLite's foreign keys on or off for this connection.  A migration that rebuilds a table
        drops the old one, which with them on would fire ON DELETE CASCADE on its children
        (SQLite's own recipe for such changes turns them off around it)."""
        conn.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
        conn.commit()

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def dispose(self) -> None:
        self.engine.dispose()
