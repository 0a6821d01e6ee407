"""Keys graphsvc generates once and keeps in its data folder: the web's session key, the client-id key.

A key is read from its file, or generated (64 hex digits) into it, mode 0600
in a 0700 folder, atomically: processes starting at once all get the same key,
and a key once written is never replaced.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from .errors import GraphsvcError


def private_folder(folder: Path) -> None:
    """``folder``, created mode 0700 if it is not there (its parents as usual); an existing one is left alone."""
    if folder.exists():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:  # another process just made it
        return
    os.chmod(folder, 0o700)  # whatever the umask


def kept_key(path: Path, *, instead: str) -> str:
    """The key in ``path``, generated there first if it is not there; ``instead`` names the setting that
    gives a key instead of the file (said when the file is empty)."""
    try:
        return _read_key(path, instead)
    except FileNotFoundError:
        pass
    folder = path.parent
    private_folder(folder)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)  # mode 0600
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # atomic, and never replaces a key another process just wrote
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: create it exclusively instead
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as f:
                    f.write(Path(tmp).read_text())
    finally:
        os.unlink(tmp)
    return _read_key(path, instead)


def _read_key(path: Path, instead: str) -> str:
    key = path.read_text().strip()
    if not key:
        raise GraphsvcError(f"{path} is empty: delete it to generate a new key, or set {instead}")
    return key
