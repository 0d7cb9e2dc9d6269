"""File names → what they are: films, episodes, extras, versions. Pure: no I/O.

- ``parse`` — the whole source-relative path decides (``parse_media_path``; a listing at
  once: ``parse_media_paths``)
- ``parsed`` — what a path names (``Parsed``), media extensions
- ``shows`` — an episode's ``Parsed`` from its marker and folders
- ``films`` — a film's or an extra's ``Parsed`` from its name and folders
- ``titles`` — title clean-up rules: keys, a title and year from raw words or a folder,
  guessit's reading of a release name with its slips mended
- ``release`` — release-named films by guessit's tag vocabulary, without its rule engine
- ``episodes`` — episode forms without guessit (``S01E02``, ``1x02``, dates, anime)
- ``movies`` — extras by suffix, version labels, parts, "Title (Year)"
- ``folders`` — season folders, extras folders, show folder titles, provider ids
- ``media`` — which files and folders hold media at all
"""

from reelhouse.library.naming.folders import extras_folder, provider_ids, season_folder, series_folder_title
from reelhouse.library.naming.media import is_media_file, is_media_folder, is_media_path, is_video_file, is_video_folder
from reelhouse.library.naming.parse import (
    MEDIA_EXTENSIONS,
    Parsed,
    absolute_folders,
    match_key,
    parse_media_path,
    parse_media_paths,
)

__all__ = [
    "MEDIA_EXTENSIONS", "Parsed", "absolute_folders", "extras_folder", "is_media_file", "is_media_folder",
    "is_media_path", "is_video_file", "is_video_folder", "match_key", "parse_media_path", "parse_media_paths",
    "provider_ids", "season_folder", "series_folder_title",
]
