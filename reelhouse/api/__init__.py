"""The HTTP edge (JSON API and the party WebSocket):

- :mod:`.app`      ``install_api(app, core)``: error handlers, health, metrics, routers
- :mod:`.routes`   one router per resource (auth, sources, files, jobs, library,
  progress, playback, hls, metadata, transfers, offline, syncs, parties)
- :mod:`.schemas`  one schema module per resource (``XCreate``, ``XUpdate``, ``XPublic``;
  ``XPublic`` reads ORM rows with pydantic's ``from_attributes``)
- :mod:`.deps`     the Core, a DB session, the current user (``Annotated`` dependencies)
- :mod:`.errors`   error tree → HTTP status, the only place that knows status codes
- :mod:`.metrics`  Prometheus metrics
- :mod:`.party_socket`  the party WebSocket

``reelhouse.server`` joins this API and the web UI into one app; nothing here imports
``reelhouse.web``.
"""
