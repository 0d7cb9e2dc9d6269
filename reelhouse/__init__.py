"""reelhouse: a self-hosted media server for films and series on FTP/FTPS servers and local disks.

Map of the package (imports point down this list; see DESIGN.md):

- ``errors``      the one exception tree
- ``config``      settings (``REELHOUSE_*`` env, optional TOML file)
- ``sources``     the Source protocol: local folders, FTP/FTPS, an in-memory double
- ``db``          SQLAlchemy models, engine, Alembic migrations
- ``library``     scanner, name parsing (guessit), probing (PyAV), queries
- ``playback``    Range parsing, direct streaming, playback tokens
- ``auth``        users, argon2 hashes, session and API tokens
- ``jobs``        background jobs (scans) with persistent progress
- ``api``         FastAPI app factory and routers
- ``web``         the browser UI
- ``cli``         the Typer command line
"""

__version__ = "0.1.0"
