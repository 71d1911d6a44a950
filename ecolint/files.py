"""Reading files from a repository without trusting it.

Every file ecolint reads from a project (the files it lints, ``.gitignore`` files, requirement files,
configuration, measurement tables) goes through :func:`read_regular`: the path is ``stat``-ed first, so a FIFO,
a device, a socket, or a symlink to one (``/dev/zero``, ``/dev/stdin``) is refused without being opened for a
blocking read, and a file over the size limit is refused without being read. Errors are :class:`OSError`
subclasses whose ``strerror`` says what is wrong, so callers that already handle ``OSError`` report them
clearly.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Union

# The most ecolint reads of a file it consults but does not lint (configuration, requirements, .gitignore,
# measurement tables). Linted files have their own limit, ``max-file-size``.
AUX_MAX_BYTES = 16 * 1024 * 1024

_KINDS = (
    (stat.S_ISFIFO, "named pipe"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
)


class NotRegularFile(OSError):
    """The path exists but is not a regular file (FIFO, device, socket, ...)."""


class FileTooLarge(OSError):
    """The file is over the size limit; ``size`` is its size in bytes (at least ``limit + 1``)."""

    def __init__(self, path: str, size: int, limit: int) -> None:
        super().__init__(errno.EFBIG, f"file is {size:,} bytes, over the {limit:,}-byte limit", path)
        self.size = size
        self.limit = limit


def kind_of(mode: int) -> str:
    """A reader's name for a file type that is not a regular file."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "special file"


def check_regular(path: Union[str, Path], st: os.stat_result) -> None:
    """Raise unless ``st`` (the ``stat`` of ``path``, symlinks followed) is a regular file."""
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a file", str(path))
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile(errno.EINVAL, f"not a regular file ({kind_of(st.st_mode)})", str(path))


def read_regular(path: Union[str, Path], max_bytes: int = AUX_MAX_BYTES) -> bytes:
    """The bytes of ``path``, a regular file of at most ``max_bytes`` bytes (symlinks are followed and judged
    by their target).

    Raises :class:`NotRegularFile`, :class:`IsADirectoryError`, :class:`FileTooLarge` or the ``OSError`` of
    ``stat``/``open``/``read``. The size is checked before reading, and the read stops after ``max_bytes + 1``
    bytes, so a file that grows (or a ``/proc``-style file that claims size 0) cannot exhaust memory.
    """
    st = os.stat(path)
    check_regular(path, st)
    if st.st_size > max_bytes:
        raise FileTooLarge(str(path), st.st_size, max_bytes)
    # O_NONBLOCK: if the path was swapped for a FIFO since the stat, opening it must not wait for a writer.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        check_regular(path, st)
        chunks = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise FileTooLarge(str(path), max(st.st_size, len(data)), max_bytes)
    return data


def read_text(path: Union[str, Path], max_bytes: int = AUX_MAX_BYTES, encoding: str = "utf-8", errors: str = "strict") -> str:
    """:func:`read_regular`, decoded, with ``\\r\\n`` and ``\\r`` read as ``\\n`` (as ``Path.read_text`` does).
    A decoding error is a ``UnicodeDecodeError``, which is a ``ValueError``."""
    text = read_regular(path, max_bytes).decode(encoding, errors)
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text
