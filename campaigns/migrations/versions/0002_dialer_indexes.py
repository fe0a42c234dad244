"""Dialer indexes: a caller-ID number's calls by day (caps, health) and a contact's outcomes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 16:35:41.351147
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attempts_caller_id_number_id_created_at"),
            ["caller_id_number_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_attempts_contact_id_outcome"), ["contact_id", "outcome"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attempts_contact_id_outcome"))
        batch_op.drop_index(batch_op.f("ix_attempts_caller_id_number_id_created_at"))
