"""The Jellyfin server API: a translation over reelhouse's services, so Jellyfin's apps
browse and play a reelhouse library (mounted under ``/jellyfin`` by the app factory).

- ``asgi``: the mount (case-insensitive paths and query names, ``/emby`` prefix)
- ``app``: the ASGI app, ProblemDetails errors, CORS
- ``auth``: authorization header forms, tokens as reelhouse sessions
- ``ids``: 32-hex ids ↔ (kind, row id)
- ``params``: query/body arguments the way clients send them
- ``query``: the Items query (its arguments, one SQL arm per item type) · ``paging``:
  one page of it (arms merged, cut) and TotalRecordCount · ``filters``: its narrower
  filters (played, resolution, premiere dates …) · ``ordering``: SortBy/SortOrder and
  the arms' merge key · ``loader``: BaseItemDto in bulk
- ``media``: MediaSourceInfo/MediaStream · ``playback``: PlaybackInfo decisions
- ``subrip``: WebVTT → SubRip for ``Stream.srt``
- ``streams``: Range streaming of a file · ``browse``: one item, resume, latest, next up, marks
- ``genres``: genres as items (ids, counts, the user's visible ones) · ``conditions``:
  DeviceProfile CodecProfiles/TranscodingProfiles · ``prefs``: DisplayPreferences
- ``routes_*``: the HTTP routes (``routes_search``: Search/Hints, filter menus;
  ``routes_extras``: UserData, Ancestors, empty ThemeMedia/MediaSegments/AdditionalParts;
  ``routes_genres``: Genres, Persons, Studios; ``routes_reference``: Years,
  Localization; ``routes_features``: Quick Connect,
  SyncPlay and Playlists, answered as switched off)
- ``socket``: the ``/socket`` WebSocket
"""
