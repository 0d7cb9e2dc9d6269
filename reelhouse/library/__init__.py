"""The library: name parsing (:mod:`.naming`), probing (:mod:`.probe`), scanning
(:mod:`.scanner`: the walk and phase 1's order; :mod:`.scan_index`: its writes, moves
and missing marks; :mod:`.scan_report`: its counts and outcome; :mod:`.known`: the rows
a scan compares with; :mod:`.probing`: phase 2) and read queries (:mod:`.queries`)."""
