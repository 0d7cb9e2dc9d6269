"""The drive: an FTP server, any configured source, or the library, as a folder.

The package map (imports point down):

- ``settings``  drive settings: defaults, the INI/TOML ``--config`` file, validation
- ``errnos``    the one place where reelhouse errors become errno values (and the
                Windows NTSTATUS equivalents, for the README table)
- ``cache``     directory and attribute caches (TTL), the on-disk LRU block cache
- ``reading``   per-handle reads: sequential streaming with read-ahead, REST preads
- ``spool``     the write spool: local files uploaded as ``name.part``, size-verified,
                renamed; retried with backoff, kept (and retried next mount) on failure
- ``fs``        the filesystem operations over a :class:`~reelhouse.sources.base.Source`,
                platform-free: paths in, :class:`~reelhouse.drive.fs.Attr` and bytes out,
                ``OSError(errno)`` on failure
- ``library``   the ``library`` view: the organised library as a read-only Source
- ``registry``  status files of live mounts (``reelhouse drive status``)
- ``mount``     one mount's life: checks, health monitor, keepalive, status, clean exit
- ``fuse``      the thin mfusepy adapter (FUSE 3 on Linux, macFUSE, WinFsp)
"""
