"""Users and credentials: argon2 password hashes (:mod:`.users`) and signed tokens
(:mod:`.tokens`) for sessions, API bearer tokens and playback URLs."""
