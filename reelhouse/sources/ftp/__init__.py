"""The FTP layer: ``config`` (FtpConfig), ``listing`` (pure parsers), ``replies`` (reply
codes and failures → domain errors), ``tls``, ``client`` (one control connection),
``pool`` (per-source connection pool), ``source`` (FtpSource)."""

from reelhouse.sources.ftp.config import FtpConfig, TlsMode
from reelhouse.sources.ftp.source import FtpSource

__all__ = ["FtpConfig", "FtpSource", "TlsMode"]
