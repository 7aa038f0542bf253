"""Reading a file a user named (a scenario, a service export, samples, a trace) safely; a leaf module.

A path may name anything: a folder, /dev/zero, a FIFO nobody writes to, a 2 GB file. Reading such a thing
whole hangs or exhausts memory, so every user file is opened here first: without blocking (a FIFO cannot
stall the open), then checked to be a regular file no larger than the limit for its kind, and only then
read. Problems are `UserFileError`, a ValueError whose text is one line without the path (callers name it).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

MiB = 2 ** 20
# Limits per kind of file: far above any real one, far below what would exhaust a planner's laptop.
SCENARIO_LIMIT = 16 * MiB      # a scenario or a service export (YAML): real ones are a few kB
SAMPLES_LIMIT = 64 * MiB       # an `empirical` file, one value a line: ~5 M values
TRACE_LIMIT = 4096 * MiB       # a trace is read streaming: the limit only bounds how long a check takes


class UserFileError(ValueError):
    """A user's file that cannot be read; the text is one line, without the path."""


def _size(n: int) -> str:
    return f"{n / MiB:,.0f} MiB" if n >= MiB else f"{n:,} bytes"


def open_user_file(path: str | Path, limit: int, *, binary: bool = False, encoding: str = "utf-8",
                   newline: str | None = None):
    """An open handle on `path` once it is known to be a regular file of at most `limit` bytes.

    Text mode unless `binary` (the caller decodes); the caller closes it (use `with`)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UserFileError("file not found") from None
    except IsADirectoryError:
        raise UserFileError("is a folder, not a file") from None
    except OSError as exc:
        raise UserFileError(f"cannot read the file ({exc.strerror or type(exc).__name__})") from None
    try:
        mode = os.fstat(fd)
        if stat.S_ISDIR(mode.st_mode):
            raise UserFileError("is a folder, not a file")
        if not stat.S_ISREG(mode.st_mode):
            raise UserFileError("is not a regular file (a device, a pipe or a socket): give a file")
        if mode.st_size > limit:
            raise UserFileError(f"is {_size(mode.st_size)}, larger than the {_size(limit)} this kind of file "
                                "may have")
        os.set_blocking(fd, True)
        if binary:
            return open(fd, "rb")
        return open(fd, encoding=encoding, newline=newline)
    except BaseException:
        os.close(fd)
        raise


def read_user_text(path: str | Path, limit: int, *, encoding: str = "utf-8") -> str:
    """The whole text of a regular file of at most `limit` bytes (also if it grows while read)."""
    with open_user_file(path, limit, binary=True) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise UserFileError(f"cannot read the file ({exc.strerror or type(exc).__name__})") from None
    if len(data) > limit:
        raise UserFileError(f"is larger than the {_size(limit)} this kind of file may have")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise UserFileError("is not UTF-8 text") from None
