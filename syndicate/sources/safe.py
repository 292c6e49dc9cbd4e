"""Reading input files safely (DESIGN 3.5): what may be opened, how much is read, how names are shown.

* Only regular files are read.  A FIFO, socket or device is never opened
  (opening a FIFO blocks until a writer comes); :func:`classify` says why an
  entry is skipped, from ``lstat`` alone.
* A symlink is followed only when its final target is a regular file inside
  one of the source roots; a link to ``/etc/shadow``, ``/proc/self/status``
  or ``/dev/zero`` is skipped with a warning that names it.  (Directory
  symlinks are judged by the listing, ``sources._walk``: followed into a
  source root, once per directory.)  Every skipped entry is a :class:`Skipped`,
  which the run's summary and status.json record (``{"path", "reason"}``).
* :func:`read_source` opens with ``O_NONBLOCK | O_NOFOLLOW``, checks the open
  file with ``fstat`` (regular, within the size limit) before reading, and
  never reads more than the limit plus one byte.
* :func:`shown_name` is how a file name appears in every message: bytes that
  are not UTF-8, control characters (a newline could forge a log line) and
  backslashes are escaped, so a message stays one honest line.
* :func:`load_json` is ``json.loads`` with its foreign failures (nesting
  beyond the recursion limit, integers beyond the int-string limit) turned
  into one-line :class:`InputError` messages.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syndicate.errors import InputError

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_CHUNK = 1 << 16
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class UnreadableSource(Exception):
    """An input file that must not or cannot be read; ``reason`` is one line without the name."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Skipped:
    """A directory entry left out of the listing, and why (shown as a warning)."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{shown_name(self.path)}: skipped: {self.reason}"

    def as_dict(self) -> dict[str, str]:
        """``{"path", "reason"}``: how the summary (``--json``) and status.json record it."""
        return {"path": shown_name(self.path), "reason": self.reason}


def shown_name(path: Path | str | bytes) -> str:
    """``path`` as it may appear in a message: one line, unambiguous, valid UTF-8."""
    raw = path if isinstance(path, bytes) else os.fsencode(path)
    text = raw.decode("utf-8", "surrogateescape")  # a byte that is not UTF-8 becomes U+DC80..U+DCFF
    if text.isprintable() and "\\" not in text:  # the common case (controls and surrogates are not printable)
        return text
    return "".join(_escape_char(ch) for ch in text)


def _escape_char(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if "\udc80" <= ch <= "\udcff":
        return f"\\x{ord(ch) - 0xDC00:02x}"
    # Not printable: C0/C1 controls, line and paragraph separators, bidi overrides and other
    # format characters, unassigned and private-use code points, spaces other than " ".
    if not ch.isprintable() and ch != " ":
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    return ch


def classify(path: Path, roots: Iterable[Path]) -> Path | Skipped:
    """The path to open for a listed entry, or why it is skipped (nothing is opened here).

    A regular file is read where it is; a symlink through its resolved target,
    which must be a regular file inside one of the ``roots``.
    """
    try:
        st = os.lstat(path)
    except OSError as exc:
        return Skipped(path, os_reason(exc))
    if stat.S_ISREG(st.st_mode):
        return path
    if not stat.S_ISLNK(st.st_mode):
        return Skipped(path, f"not a regular file ({_kind(st.st_mode)}); never opened")
    try:
        real = Path(os.path.realpath(path, strict=True))
        target = os.stat(real)
    except OSError as exc:
        return Skipped(path, f"symlink: {os_reason(exc)}")
    if not inside_roots(real, roots):
        return Skipped(path, f"symlink to {shown_name(real)}, outside the source directories")
    if not stat.S_ISREG(target.st_mode):
        return Skipped(path, f"symlink to a {_kind(target.st_mode)}, not a regular file; never opened")
    return real


def resolved_roots(roots: Iterable[Path]) -> tuple[Path, ...]:
    """The source roots as real paths (symlinks are followed only when they stay inside one)."""
    result = []
    for root in roots:
        try:
            result.append(Path(os.path.realpath(root, strict=True)))
        except OSError:
            continue
    return tuple(result)


def inside_roots(path: Path, roots: Iterable[Path]) -> bool:
    """Whether ``path``, with its symlinks resolved, is one of ``roots`` or inside one."""
    real = Path(os.path.realpath(path))
    return any(real == root or root in real.parents for root in roots)


def read_source(path: Path | str, max_bytes: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes`` of them.

    Raises :class:`UnreadableSource` for anything else: a FIFO, device or
    socket (opened non-blocking, refused after ``fstat``, never read), a
    symlink in the last component, a file over the limit (checked before
    reading, and again while reading a file that grows), an OS error.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ELOOP and os.path.islink(path):
            raise UnreadableSource("is a symlink (only symlinks inside the source directories are read)") from None
        raise UnreadableSource(f"cannot read: {os_reason(exc)}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableSource(f"not a regular file ({_kind(st.st_mode)}); not read")
        if st.st_size > max_bytes:
            raise UnreadableSource(_too_large(st.st_size, max_bytes))
        return _read_bounded(fd, max_bytes)
    except OSError as exc:
        raise UnreadableSource(f"cannot read: {os_reason(exc)}") from None
    finally:
        os.close(fd)


def _read_bounded(fd: int, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise UnreadableSource(f"file too large (more than {max_bytes} bytes; the limit is {max_bytes})")


def _too_large(size: int, max_bytes: int) -> str:
    return f"file too large ({size} bytes; the limit is {max_bytes})"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symlink"
    return "not a regular file"


def os_reason(exc: OSError) -> str:
    """One line for an OSError; a symlink loop is called one."""
    if exc.errno == errno.ELOOP:
        return "symlink loop (too many levels of symbolic links)"
    return exc.strerror or str(exc)


def load_json(path: str, text: str) -> Any:
    """``json.loads(text)``; any failure is an InputError naming ``path`` (never a traceback)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON: {exc.msg}", exc.lineno) from None
    except RecursionError:
        raise InputError(path, "invalid JSON: nested too deeply") from None
    except ValueError as exc:  # the int-string conversion limit: "Exceeds the limit (4300 digits) ..."
        reason = str(exc).split(";", 1)[0]
        raise InputError(path, f"invalid JSON: a number is too long ({reason})") from None
