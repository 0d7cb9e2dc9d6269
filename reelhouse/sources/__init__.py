"""Sources: where files live. One protocol (:class:`~reelhouse.sources.base.Source`),
three implementations: :mod:`.local`, :mod:`.ftp`, :mod:`.memory` (test double); and the
registry (:mod:`.registry`) of configured sources that hands out live Source objects.
The folder walk every source's ``walk`` uses is :mod:`.walk` (links to folders:
:mod:`.linkwalk`).

The adapters import nothing of reelhouse but ``errors``; the registry alone also
imports ``config`` and ``db`` (tests/test_architecture.py checks both).
"""
