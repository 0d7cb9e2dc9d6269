"""Database: SQLAlchemy 2 models (:mod:`.models`), engine and sessions (:mod:`.engine`),
Alembic migrations applied at start-up (:mod:`.migrate`)."""
