"""Watch parties: friends watch one media file together, in sync.

- ``state``     the pure state machine (idle · waiting · paused · playing · ended)
- ``events``    its events (join, play, seek, buffering, tick, close …), pure too
- ``clock``     the server clock and the NTP-style offset estimate clients run
- ``protocol``  the versioned JSON messages of the WebSocket (parse and render)
- ``codes``     short invite codes from an unambiguous alphabet
- ``service``   parties in the database (``watch_sessions``, ``watch_participants``)
- ``hub``       fan-out of messages to every connection: in memory or Redis pub/sub
- ``live``      the runtime of one process: membership per connection, broadcasts,
                the timers that end a wait (the WebSocket adapter is ``api/party_socket.py``)
"""
