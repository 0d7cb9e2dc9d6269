"""The drive: an FTP server, any configured source, or the library, as a folder.

The package map (imports point down):

- ``settings``  drive settings: defaults, the INI/TOML ``--config`` file, validation
- ``errnos``    the one place where reelhouse errors become errno values (and the
                Windows NTSTATUS equivalents, for the README table)
- ``cache``     directory and attribute caches (TTL), the on-disk LRU block cache
- ``status``    a mount's counters and health; status files of live mounts
                (``reelhouse drive status``)
- ``reading``   per-handle reads: sequential streaming with read-ahead, REST preads
- ``tee``       a streamed file's bytes, copied once into a ring feeding the spool
                file (``O_DIRECT``) and the upload; ``rings`` its memory (huge pages, one kept)
- ``streamer``  the upload that runs while a big file is still being written
- ``manifest``  what a spool folder keeps for a later mount: manifests, notes of
                discarded ``.part`` files, how to reach the server
- ``parts``     the ``.part`` names of uploads; removing one an upload left
- ``spool_deletes`` the spool's side of a delete: a file deleted is never uploaded after
- ``spool``     the write spool: local files uploaded as ``name.part``, size-verified,
                renamed; retried with backoff, kept (and retried next mount) on failure
- ``recovery``  a mount adopting and sending what earlier mounts kept
- ``names``     names refused before a server sees them (ENAMETOOLONG, EINVAL)
- ``prefetch``  background listing of the subfolders of a folder just read
- ``tree``      entries and listings as the mount shows them (the server's, with the
                spool's files laid over), :class:`~reelhouse.drive.tree.Attr`
- ``guard``     reelhouse errors to ``OSError(errno)``; read-only mounts and servers
- ``handles``   open file handles, following their files through renames
- ``namespace`` unlink, mkdir, rmdir, rename, utimens
- ``fs``        the filesystem operations over a :class:`~reelhouse.sources.base.Source`,
                platform-free: paths in, :class:`~reelhouse.drive.tree.Attr` and bytes out,
                ``OSError(errno)`` on failure (the façade over the five above)
- ``spools``    the uploads kept in the spool folders of mounts that have ended:
                list, clear a refusal, discard (``reelhouse drive spool``)
- ``control``   a live mount asked by another process to retry or discard a kept upload
- ``library``   the ``library`` view: the organised library as a read-only Source
- ``mount``     one mount's life: checks, health monitor, keepalive, status, clean exit
- ``fuse``      the thin mfusepy adapter (FUSE 3 on Linux, macFUSE, WinFsp); ``fuse_session``
                its libfuse session helpers (cut requests at unmount, drop kernel caches)
"""
