"""dataset and model names unique per project, not globally; API keys carry their project

Two projects may each hold a dataset called 'titanic'.  PostgreSQL swaps the constraints in place.
SQLite cannot drop a table's inline UNIQUE, so the two tables are rebuilt by SQLite's own recipe:
create the new table, copy the rows, drop the old one, rename.  Dropping the old table would fire
ON DELETE CASCADE on every dataset version and model version, so the recipe needs foreign keys
off, which :meth:`core.platform.metadata.db.Database.upgrade` does before the transaction begins;
this migration refuses to run with them on rather than lose those rows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 07:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# table -> the length of its name column
NAMED = {'datasets': 100, 'registered_models': 200}
COLUMNS = 'id, name, project_id, description, created_at'


def _columns(length: int) -> list:
    return [
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=length), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=True),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id']),
        sa.PrimaryKeyConstraint('id'),
    ]


def _require_foreign_keys_off() -> None:
    if op.get_bind().exec_driver_sql('PRAGMA foreign_keys').scalar():
        raise RuntimeError('Migration 0005 rebuilds tables on SQLite and needs PRAGMA foreign_keys=OFF: with it on, '
                           'dropping the old tables would delete every dataset and model version. '
                           'Upgrade through core.platform.metadata.Database.upgrade, which turns it off.')


def _rebuild_sqlite(table: str, length: int, unique: sa.UniqueConstraint) -> None:
    new = f'_new_{table}'
    op.create_table(new, *_columns(length), unique)
    op.execute(f'INSERT INTO {new} ({COLUMNS}) SELECT {COLUMNS} FROM {table}')
    op.drop_index(f'ix_{table}_project_id', table_name=table)
    op.drop_table(table)
    op.rename_table(new, table)
    op.create_index(f'ix_{table}_project_id', table, ['project_id'], unique=False)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        _require_foreign_keys_off()
    for table, length in NAMED.items():
        name = f'uq_{table}_project_name'
        if sqlite:
            _rebuild_sqlite(table, length, sa.UniqueConstraint('project_id', 'name', name=name))
        else:
            op.drop_constraint(f'{table}_name_key', table, type_='unique')
            op.create_unique_constraint(name, table, ['project_id', 'name'])

    if sqlite:  # adding a column is in place on SQLite: no rebuild, no cascade
        op.execute('ALTER TABLE api_keys ADD COLUMN project_id INTEGER REFERENCES projects (id)')
    else:
        op.add_column('api_keys', sa.Column('project_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_api_keys_project_id', 'api_keys', 'projects', ['project_id'], ['id'])
    op.create_index('ix_api_keys_project_id', 'api_keys', ['project_id'], unique=False)
    op.execute('UPDATE api_keys SET project_id = 1 WHERE project_id IS NULL')  # keys from before: the default project


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.drop_index('ix_api_keys_project_id', table_name='api_keys')
    if not sqlite:
        op.drop_constraint('fk_api_keys_project_id', 'api_keys', type_='foreignkey')
    op.drop_column('api_keys', 'project_id')
    if sqlite:
        _require_foreign_keys_off()
    for table, length in NAMED.items():  # fails, as it should, while two projects share a name
        if sqlite:
            _rebuild_sqlite(table, length, sa.UniqueConstraint('name'))
        else:
            op.drop_constraint(f'uq_{table}_project_name', table, type_='unique')
            op.create_unique_constraint(f'{table}_name_key', table, ['name'])
