"""Atomic file writes: a temporary file in the target's folder, fsync, rename, fsync the folder.

A process killed at any moment leaves either the old file or the new complete one under the
target name. Temporary names carry the host and process id (``.NAME.HOST.PID.XXXX.tmp``), so
a later write to the same target removes the ones left by dead processes on this host.
"""

from __future__ import annotations

import contextlib
import glob
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_file"]


def _host() -> str:
    return socket.gethostname().replace(".", "_") or "host"


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}.{_host()}.{os.getpid()}."


def remove_stale_temporaries(path: Path) -> None:
    """Delete temporary files left by writes to ``path`` from dead processes on this host
    (a process killed mid-write cannot clean up after itself)."""
    prefix = f".{path.name}.{_host()}."
    try:
        candidates = list(path.parent.glob(f"{glob.escape(prefix)}*.tmp"))
    except OSError:  # pragma: no cover - unreadable folder: nothing to clean
        return
    for candidate in candidates:
        pid_text = candidate.name[len(prefix) :].split(".", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            candidate.unlink(missing_ok=True)
        except (PermissionError, OverflowError, OSError):
            continue


def fsync_folder(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. a platform without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[IO[bytes]]:
    """Yield a binary handle whose contents replace ``path`` when the block ends normally.

    On any exception (or a kill) the target is untouched and the temporary file is removed
    (by this process, or by the next write after a kill).
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(
            f"cannot write {str(path)!r}: folder {str(directory)!r} does not exist."
        )
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_folder(directory)
