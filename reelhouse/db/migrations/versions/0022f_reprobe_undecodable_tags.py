"""films refused for tags that are not UTF-8 are probed again

PyAV's ``av.open`` raised UnicodeDecodeError for a file whose tags are not UTF-8 (an
old AVI's latin-1 title, an MKV track named by a Windows tool), so the probe stored
``could not read media header: 'utf-8' codec can't decode …`` and the film was
"cannot be played". Probes now decode such tags with U+FFFD (library/probe.py
``METADATA_ERRORS``), but a scan probes an unchanged file again only when it has
neither ``probe_bytes`` nor ``probe_error`` (library/probing.py): this clears the
error of those files, so the next scan of their source probes them.

Revision ID: 0022f
Revises: 0021h
"""
import sqlalchemy as sa
from alembic import op


revision = '0022f'
down_revision = '0021h'
branch_labels = None
depends_on = None

#: what the probe stored for them (PyAV's UnicodeDecodeError in the probe's words)
PATTERN = "%codec can't decode byte%"


def upgrade() -> None:
    op.get_bind().execute(
        sa.text("UPDATE media_files SET probe_error = NULL, probe_bytes = NULL WHERE probe_error LIKE :p"),
        {"p": PATTERN})


def downgrade() -> None:
    pass  # the next scan's probe stores what it finds
