"""retraining policies of served models: drift windows, new data, a schedule, the gain to promote

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 07:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('retrain_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('drift_windows', sa.Integer(), nullable=True),
    sa.Column('on_new_data', sa.Boolean(), nullable=False),
    sa.Column('every_hours', sa.Float(), nullable=True),
    sa.Column('min_gain', sa.Float(), nullable=False),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_dataset_version_id', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['registered_models.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('model_id')
    )


def downgrade() -> None:
    op.drop_table('retrain_policies')
