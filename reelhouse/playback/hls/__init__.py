"""Adaptive HLS: every file plays in every browser.

Map of the package (imports point down):

- ``decision``   pure: direct | remux | transcode from the file's facts and the client's
                 capabilities, with the reason
- ``ladder``     pure: the renditions (360p/720p/1080p capped at the source, + copy)
- ``playlists``  pure: master, media and subtitle playlists (RFC 8216)
- ``subtitles``  pure sidecar naming (``Film.en.srt``) and the WebVTT conversion
- ``ffmpeg``     locate ffmpeg (PATH, else imageio-ffmpeg), check libx264/aac, commands
- ``feed``       a loopback HTTP server that lets ffmpeg read any Source with seeking
- ``facts``      the stream facts of a file (PyAV through the Source, or the DB row)
- ``encoders``   the ffmpeg processes: one per (file, rendition), restart on a far
                 seek, global limit, idle timeout, throttle
- ``cache``      the on-disk segment cache (LRU by size)
- ``service``    ``HlsService``: what the API calls
"""
