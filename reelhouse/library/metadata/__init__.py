"""Library metadata: NFO sidecars, local artwork, TMDB, matching, images.

::

    service.py    MetadataService: the scan hook, manual fixes, the image store
    enrich.py     scan-time enrichment of movies, shows, seasons, episodes
    nfo.py        Kodi NFO → NfoInfo (pure, defusedxml)
    sidecars.py   which NFO/artwork files belong to a media file (pure); FolderIndex
    tmdb.py       TMDB client: cache, token bucket, 429/5xx/timeout retries
    ratelimit.py  token bucket (pure, clock passed in)
    matcher.py    confidence of a TMDB candidate (rapidfuzz + year; pure)
    images.py     ImageStore: cached originals under <data_dir>/images, resized copies
"""
