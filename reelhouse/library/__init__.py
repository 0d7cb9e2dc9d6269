"""The library: name parsing (:mod:`.naming`), probing (:mod:`.probe`), scanning
(:mod:`.scanner`) and read queries (:mod:`.queries`)."""
