"""users, projects, memberships and the audit trail; a project on datasets, models, jobs, prediction runs

Rows made before projects existed go into the project named 'default' (created here), so a
workspace from before upgrades in place; its owner is the first admin, set when it is opened.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OWNED = ('datasets', 'jobs', 'registered_models', 'prediction_runs')


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('problem_type', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'user_id', name='uq_membership')
    )
    op.create_index(op.f('ix_memberships_project_id'), 'memberships', ['project_id'], unique=False)
    op.create_index(op.f('ix_memberships_user_id'), 'memberships', ['user_id'], unique=False)
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('object', sa.String(length=300), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_audit_events_project_id'), 'audit_events', ['project_id'], unique=False)

    projects = sa.table('projects', sa.column('id', sa.Integer), sa.column('name', sa.String),
                        sa.column('archived', sa.Boolean), sa.column('created_at', sa.DateTime(timezone=True)))
    op.execute(projects.insert().values(id=1, name='default', archived=False, created_at=sa.func.current_timestamp()))
    if op.get_bind().dialect.name == 'postgresql':  # the explicit id 1 leaves the sequence behind
        op.execute("SELECT setval(pg_get_serial_sequence('projects', 'id'), 1)")

    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in OWNED:
        if sqlite:  # a batch copy would drop the table, and its ON DELETE CASCADE children with it
            op.execute(f'ALTER TABLE {table} ADD COLUMN project_id INTEGER REFERENCES projects (id)')
        else:
            op.add_column(table, sa.Column('project_id', sa.Integer(), nullable=True))
            op.create_foreign_key(f'fk_{table}_project_id', table, 'projects', ['project_id'], ['id'])
        op.create_index(op.f(f'ix_{table}_project_id'), table, ['project_id'], unique=False)
        op.execute(f'UPDATE {table} SET project_id = 1 WHERE project_id IS NULL')


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in reversed(OWNED):
        op.drop_index(op.f(f'ix_{table}_project_id'), table_name=table)
        if not sqlite:
            op.drop_constraint(f'fk_{table}_project_id', table, type_='foreignkey')
        op.drop_column(table, 'project_id')  # SQLite 3.35+ drops a column in place
    op.drop_index(op.f('ix_audit_events_project_id'), table_name='audit_events')
    op.drop_table('audit_events')
    op.drop_index(op.f('ix_memberships_user_id'), table_name='memberships')
    op.drop_index(op.f('ix_memberships_project_id'), table_name='memberships')
    op.drop_table('memberships')
    op.drop_table('projects')
    op.drop_table('users')
