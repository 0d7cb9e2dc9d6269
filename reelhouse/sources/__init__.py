"""Sources: where files live. One protocol (:class:`~reelhouse.sources.base.Source`),
three implementations: :mod:`.local`, :mod:`.ftp`, :mod:`.memory` (test double).
"""
