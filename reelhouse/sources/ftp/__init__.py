"""The FTP layer, bottom up: ``config`` (FtpConfig), ``limits`` (size limits on what is
read), ``passive`` (PASV where an IPv6 server lacks EPSV, EPSV where an IPv4 one refuses
PASV), ``listing_dates`` (LIST
dates, read as UTC), ``listing`` (pure parsers of one listing line), ``listing_text``
(pure parsers of whole listings, straight into Entry), ``replies`` (reply codes and
failures → domain errors), ``tls``, ``receive`` (a listing's data read while its replies are watched: servers
without the 150), ``pipeline`` (a listing in one write), ``statlist``
(listings over the control connection), ``connection`` (one control connection: login,
TLS, features), ``lister`` (folder listings and entry details on it), ``restcheck``
(whether a server honours REST, checked once), ``retrieval`` (RETR from an offset on
it: REST, or a skip where REST is refused or ignored), ``client`` (writes, tree edits on
it), ``address`` (the address a server is counted under),
``slot_store`` (what the shared count asks of its store), ``slot_helper`` (its helper
thread), ``slot_outage`` (its store's outages: per-process counts meanwhile, adopted
after), ``slots`` (connections and users' fair shares counted over the cluster),
``granting`` (who gets the next connection, fairly), ``pool`` (per-source connection
pool), ``pooled`` (commands on pooled connections with one retry, the source's
executor), ``reads`` (range reads with mid-stream resume), ``source`` (FtpSource:
listings, the walk in batches, writes)."""

from reelhouse.sources.ftp.config import FtpConfig, TlsMode
from reelhouse.sources.ftp.source import FtpSource

__all__ = ["FtpConfig", "FtpSource", "TlsMode"]
