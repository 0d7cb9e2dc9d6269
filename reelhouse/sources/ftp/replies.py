"""FTP replies and failures → the reelhouse error tree (:func:`translate_error`): the one
place where ftplib, socket and ssl exceptions become our errors."""

from __future__ import annotations

import ftplib
import re
import socket
import ssl

from reelhouse.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    ReelhouseError,
    SourceBusy,
    SourceLoginRefused,
    SourceTimeout,
    SourceUnavailable,
    SourceUnreachable,
    StorageFull,
)
from reelhouse.sources.base import LinkNotFollowed

__all__ = ["empty_folder_reply", "final_reply", "pwd_path", "translate_error", "use_encoding"]

# The words of a listing refused because there is nothing to list: wu-ftpd and Serv-U
# ("550 No files found.", "450 No files found"), servers that glob "*" in an empty folder
# ("550 No such file or directory."), NAS firmwares ("550 Directory is empty").
_NOTHING_LISTED = re.compile(r"no files?\b|no such file|not found|\bempty\b", re.I)


def translate_error(exc: BaseException, what: str) -> ReelhouseError:
    """Map an ftplib/socket/ssl exception to the reelhouse error tree.

    Reply codes per RFC 959 §4.2: 421 → SourceBusy, 530 → SourceLoginRefused, 532 ("Need
    account for storing files") → PermissionDenied,
    550 → NotFound (PermissionDenied when the text says so; LinkNotFollowed for pyftpdlib's
    "points to a path which is outside the user's root directory"), 553 → PermissionDenied when
    the text says so (pure-ftpd: "Can't open that file: Permission denied"; vsftpd's "Could not
    create file."), 451 → PermissionDenied when the text says so (pure-ftpd answers every
    failed RNTO "451 Rename/move failure: <strerror>"; NotFound when that is "No such file
    or directory"; so is pure-ftpd's 553 "Can't open that file: No such file or
    directory", a STOR into a folder that is gone), else 553 and
    500/501/504 (a request the server cannot parse, e.g. a name too long) → InvalidInput,
    452/552 → StorageFull, other 4xx → SourceUnavailable; a timeout → SourceTimeout; a
    refused, reset or dropped connection or a name that does not resolve →
    SourceUnreachable (the API answers 504 and 502: RFC 9110 §15.6.5, §15.6.3).
    """
    if isinstance(exc, ReelhouseError):
        return exc
    text = str(exc).strip()
    code = text[:3]
    if isinstance(exc, ftplib.Error) and code.isdigit():
        if code == "421":
            return SourceBusy(f"FTP server is busy ({text}) while {what}")
        if code == "530":
            return SourceLoginRefused(f"FTP login refused: {text}")
        low = text.lower()
        if code == "532":  # "Need account for storing files." (RFC 959 §4.2): never this login
            return PermissionDenied(f"FTP server denied access while {what}: {text}")
        if code in ("550", "450", "451", "553") and ("permission" in low or "denied" in low or "access" in low
                                                   or "privilege" in low
                                                   or (code == "553" and "could not create file" in low)):
            # vsftpd answers every STOR it cannot open with "553 Could not create file."
            # (postlogin.c), whatever the reason; it passes names through untouched, so
            # the reason is the folder's permission, not the name
            return PermissionDenied(f"FTP server denied access while {what}: {text}")
        if code == "550" and "outside the user's root" in low:  # pyftpdlib: a link out of its root
            return LinkNotFollowed(f"skipped: a link the FTP server will not follow (it points outside the "
                                   f"server's root) while {what}: {text}")
        if code in ("550", "450") or (code in ("451", "553") and "no such file" in low):
            # 553: pure-ftpd's STOR into a folder that is gone ("Can't open that file: No
            # such file or directory")
            return NotFound(f"not found on the FTP server while {what}: {text}")
        if code == "501" and ("no such" in text.lower() or "not a dir" in text.lower()):
            return NotFound(f"not found on the FTP server while {what}: {text}")
        if code in ("500", "501", "504"):  # 500: e.g. a line too long for the server
            return InvalidInput(f"FTP server refused the request while {what}: {text}")
        if code == "553":
            return InvalidInput(f"FTP server refused the file name while {what}: {text}")
        if code in ("452", "552"):
            return StorageFull(f"FTP server storage is full while {what}: {text}")
        if code[0] == "4":
            return SourceUnavailable(f"FTP server error while {what}: {text}")
        return SourceUnavailable(f"unexpected FTP reply while {what}: {text}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return SourceUnavailable(f"TLS certificate of the FTP server not trusted: {exc.verify_message}")
    if isinstance(exc, TimeoutError | socket.timeout):
        return SourceTimeout(f"FTP server timed out while {what}")
    if isinstance(exc, ConnectionRefusedError):
        return SourceUnreachable(f"FTP server refused the connection while {what}")
    if isinstance(exc, socket.gaierror):
        return SourceUnreachable(f"cannot resolve the FTP host while {what}: {exc.strerror}")
    if isinstance(exc, OSError | EOFError) and not isinstance(exc, ssl.SSLError):  # reset, dropped, no route
        return SourceUnreachable(f"FTP connection failed while {what}: {exc or type(exc).__name__}")
    if isinstance(exc, ftplib.Error | ssl.SSLError | UnicodeError):
        return SourceUnavailable(f"FTP connection failed while {what}: {exc or type(exc).__name__}")
    return SourceUnavailable(f"FTP failure while {what}: {type(exc).__name__}: {exc}")


def empty_folder_reply(exc: BaseException) -> bool:
    """Whether ``exc``, a 450/550 reply to a plain ``LIST`` (no argument: "550 -a: No such
    file" answers an option) sent in the folder a ``CWD`` just entered (so the folder is
    there), says the folder is empty rather than that
    it cannot be read: its text speaks of nothing found and not of permission. Such a
    folder lists as empty, a complete listing (RFC 959 §4.2 lets LIST answer 450/550;
    LIST of an empty folder is 226 on most servers)."""
    if not isinstance(exc, ftplib.error_temp | ftplib.error_perm):
        return False
    text = str(exc).strip()
    low = text.lower()
    return (text[:3] in ("450", "550") and _NOTHING_LISTED.search(text) is not None
            and not any(word in low for word in ("permission", "denied", "access", "privilege")))


def use_encoding(ftp: ftplib.FTP, encoding: str) -> None:
    """Switch the control connection's text encoding (between replies: nothing is
    buffered). ftplib reads replies through a text file made at connect."""
    ftp.encoding = encoding
    if ftp.sock is not None:
        ftp.file = ftp.sock.makefile("r", encoding=encoding)


def final_reply(ftp: ftplib.FTP) -> str:
    """The next reply's text, whatever its code (ftplib raises for 4xx/5xx)."""
    try:
        return ftp.getresp()
    except (ftplib.error_temp, ftplib.error_perm, ftplib.error_reply) as exc:
        return str(exc)


def pwd_path(reply: str) -> str | None:
    """The folder a ``257`` reply names (to PWD, RFC 959 §4.1.3 and Appendix II):
    ``257 "PATHNAME" comment`` with each ``"`` inside doubled; from a server that does
    not quote it (``257 /home/me is the current directory``), its first word when that
    is an absolute path. None for any other reply."""
    if not reply.startswith("257"):
        return None
    text = reply[4:]
    start = text.find('"')
    if start < 0:
        word = text.split(" ", 1)[0].strip()
        return word if word.startswith("/") else None
    end = start + 1
    while (end := text.find('"', end)) >= 0 and text[end + 1:end + 2] == '"':
        end += 2
    return text[start + 1:end].replace('""', '"') if end > start else None
