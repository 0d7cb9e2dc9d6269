"""Adaptive HLS: every file plays in every browser.

Map of the package (imports point down):

- ``decision``   pure: direct | remux | transcode from the file's facts and the client's
                 capabilities, with the reason
- ``ladder``     pure: the renditions (360p/720p/1080p capped at the source, + copy)
- ``playlists``  pure: master, media and subtitle playlists (RFC 8216)
- ``ffmpeg``     locate ffmpeg (PATH, else imageio-ffmpeg), check libx264/aac, commands
- ``feed``       a loopback HTTP server that lets ffmpeg read any Source with seeking
- ``facts``      the stream facts of a file (PyAV through the Source, or the DB row)
- ``keyframes``  the keyframe before a seek in a file without a keyframe index (MPEG-TS)
- ``encoders``   the ffmpeg processes: one per (file, rendition), restart on a far
                 seek, global limit, idle timeout, throttle
- ``cache``      the on-disk segment cache (LRU by size)
- ``plans``      ``Plans``: a file's streams (cached probe), the ffmpeg check, the plan,
                 renditions, audio tracks, master and media playlists
- ``subtitles``  pure sidecar naming (``Film.en.srt``), the WebVTT conversion, and
                 ``Subtitles``: a file's tracks, their playlists and WebVTT files
- ``segments``   ``Segments``: segments (prepared, cached, or made now), "prepare"
- ``service``    ``HlsService``: what the API and playback/service.py call (joins the three)
"""
