"""Reading files from a repository without trusting it, and writing files without leaving half of one.

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
import tempfile
from pathlib import Path
from typing import Callable, Optional, Union

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


def replace_file(path: Path, data: bytes, *, suffix: str = ".tmp", durable: bool = False,
                 prepare: Optional[Callable[[str], bool]] = None) -> bool:
    """Write ``data`` to a temporary file next to ``path`` (named ``.<name>.<random><suffix>``) and rename it
    over ``path``, so a reader sees the old content or the new one, never half of each. ``durable``: flush the
    data to disk before the rename. ``prepare(tmp)`` runs before the rename; when it returns False the
    temporary file is removed, ``path`` is left alone and the result is False. Errors remove the temporary
    file and propagate (a directory that refuses new files raises ``PermissionError`` before anything is
    written)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if prepare is not None and not prepare(tmp):
            os.unlink(tmp)
            return False
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return True


def write_atomic(path: Path, data: bytes) -> None:
    """Replace the content of ``path`` (a symlink: of its target) by ``data``.

    A file without write permission for the user is refused (``PermissionError`` "read-only"; as root, a file
    with no write bit at all), as an editor would. The new content goes to a temporary file in the same
    directory that gets the file's permission bits, owner and group, and is renamed over it, so an interrupted
    run leaves the old file or the new one, never half of each. When the rename would change what the file is
    (a hard link, whose other names would keep the old content; an owner the temporary file cannot be given;
    extended attributes that cannot be copied; a directory ecolint cannot create files in), the file is
    rewritten in place instead."""
    real = Path(os.path.realpath(path))
    st = real.stat()
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    if not _writable(real, st):
        raise PermissionError(errno.EACCES, "read-only", str(path))
    if st.st_nlink > 1:
        _write_in_place(real, data)
        return

    def keep_identity(tmp: str) -> bool:
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        return _same_owner(tmp, st) and _copy_xattrs(real, tmp)

    try:
        replaced = replace_file(real, data, suffix=".ecolint-tmp", durable=True, prepare=keep_identity)
    except PermissionError:  # a directory ecolint cannot create files in
        replaced = False
    if not replaced:
        _write_in_place(real, data)


def _writable(path: Path, st: os.stat_result) -> bool:
    """May the user rewrite ``path``? Its permission check (ACLs, read-only mounts included), and for root,
    who passes every check, the file's mode: a file nobody may write stays unwritten."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return bool(st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) and os.access(path, os.W_OK)
    return os.access(path, os.W_OK)


def _same_owner(tmp: str, st: os.stat_result) -> bool:
    """Give ``tmp`` the owner and group of the file it replaces; False when that is not allowed."""
    if not hasattr(os, "chown"):
        return True
    mine = os.stat(tmp)
    if (mine.st_uid, mine.st_gid) == (st.st_uid, st.st_gid):
        return True
    try:
        os.chown(tmp, st.st_uid, st.st_gid)
    except OSError:
        return False
    os.chmod(tmp, stat.S_IMODE(st.st_mode))  # chown clears set-user/group-ID bits
    return True


def _copy_xattrs(src: Path, dst: str) -> bool:
    """Copy the extended attributes (ACLs, SELinux labels, ...) of ``src`` to ``dst``; False if one cannot be."""
    if not hasattr(os, "listxattr"):
        return True
    try:
        names = os.listxattr(src)
    except OSError:
        return True  # the file system has none
    try:
        for name in names:
            value = os.getxattr(src, name)
            if value != _xattr(dst, name):  # a label the new file got already (SELinux) needs no privilege
                os.setxattr(dst, name, value)
    except OSError:
        return False
    return True


def _xattr(path: str, name: str) -> Optional[bytes]:
    try:
        return os.getxattr(path, name)
    except OSError:
        return None


def _write_in_place(path: Path, data: bytes) -> None:
    """Overwrite ``path``'s content, keeping its inode (hard links, owner, attributes): not atomic, so used
    only where a rename would lose something."""
    with open(path, "r+b") as fh:
        fh.write(data)
        fh.truncate()
        fh.flush()
        os.fsync(fh.fileno())


def display_path(path: Path) -> str:
    """How a path is shown in reports: relative to the working directory when below it, else as given.

    The result always names the file the OS opens for ``path`` (findings, texts, fixes and the cache are keyed
    on it): a ``..`` after a symlinked directory is resolved the way the OS resolves it, never collapsed
    lexically (``sub/../x.py`` with ``sub -> other/deep`` is ``other/x.py``, not ``x.py``)."""
    if ".." in path.parts:
        lexical, real = os.path.abspath(path.parent), os.path.realpath(path.parent)
        if lexical != real:
            path = Path(real) / path.name
    rel = _below_cwd(path)
    if rel is None:
        try:
            rel = os.path.relpath(path)
        except ValueError:
            rel = str(path)
    return Path(rel).as_posix() if not rel.startswith("..") else path.as_posix()


def _below_cwd(path: Path) -> Optional[str]:
    """``os.path.relpath(path)`` for a path below the working directory on POSIX (the usual case, asked once per
    linted file): the rest of its absolute path. None otherwise."""
    if os.sep != "/":
        return None
    full = os.path.abspath(path)
    cwd = os.getcwd()
    prefix = cwd if cwd.endswith("/") else cwd + "/"
    return full[len(prefix):] if full.startswith(prefix) and len(full) > len(prefix) else None
