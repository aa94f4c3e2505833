"""articles and index outbox

Revision ID: 0001
Revises: 
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('article',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idem_key', sqlmodel.sql.sqltypes.AutoString(length=2100), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('published_at', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('published_precision', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('published_start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('published_end', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('source_key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('author', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('section', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('photo_credit', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_article')),
    sa.UniqueConstraint('idem_key', name=op.f('uq_article_idem_key')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_language'), ['language'], unique=False)
        batch_op.create_index(batch_op.f('ix_article_published_start'), ['published_start'], unique=False)
        batch_op.create_index(batch_op.f('ix_article_source_key'), ['source_key'], unique=False)

    op.create_table('index_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_index_outbox')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('index_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_index_outbox_article_id'), ['article_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('index_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_index_outbox_article_id'))

    op.drop_table('index_outbox')
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_source_key'))
        batch_op.drop_index(batch_op.f('ix_article_published_start'))
        batch_op.drop_index(batch_op.f('ix_article_language'))

    op.drop_table('article')
