"""The FTP layer: ``listing`` (pure parsers), ``client`` (one control connection),
``pool`` (per-source connection pool), ``source`` (FtpSource)."""

from reelhouse.sources.ftp.client import FtpConfig, TlsMode
from reelhouse.sources.ftp.source import FtpSource

__all__ = ["FtpConfig", "FtpSource", "TlsMode"]
