"""Logging: one log file per installation, and the terminal only when asked.

``configure_logging(settings)`` sends the standard ``logging`` records of
graphsvc and its libraries (the Neo4j driver's retry warnings among them) to
``settings.log_file`` at ``settings.log_level``, and also to stderr when
``settings.log_echo`` (``graphsvc -v``). The file is mode 0600. The CLI
calls it first thing; the web app (and ``wsgi.py``) can call it too. Calling it again replaces what an
earlier call set up, and leaves other handlers (pytest's, gunicorn's) alone.
Python ``warnings`` go to the log too (logger ``py.warnings``).

Once configured, nothing a library logs reaches a user's terminal uninvited:
the root logger has a handler, so Python's last-resort stderr handler is
never used. The one exception is Flask's development server (logger
``werkzeug``), whose lines stay on the terminal of ``graphsvc serve``.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
_MARK = "_graphsvc_handler"


class _Stderr(logging.StreamHandler):
    """stderr as it is when a record is written (click's test runner swaps it)."""

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def _private_file(path: Path) -> None:
    """``path`` made mode 0600 if new, whatever the umask, and tightened to 0600 if looser (the log names
    users, addresses and ids); a file another user owns is left as it is."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISREG(mode) and mode & 0o777 != 0o600:  # never /dev/null's
            os.fchmod(fd, 0o600)
    except PermissionError:
        pass
    finally:
        os.close(fd)


def configured() -> bool:
    """Whether ``configure_logging`` has set up the root logger in this process."""
    return any(getattr(h, _MARK, False) for h in logging.getLogger().handlers)


def configure_logging(settings) -> Path | None:
    """Log to ``settings.log_file`` (and stderr if ``settings.log_echo``); return the file or None.

    If the file cannot be opened, records of level WARNING and above go to
    stderr instead, after one line saying why.
    """
    root = logging.getLogger()
    werkzeug = logging.getLogger("werkzeug")
    for logger in (root, werkzeug):
        for handler in list(logger.handlers):
            if getattr(handler, _MARK, False):
                logger.removeHandler(handler)
                handler.close()
    level = logging.getLevelName(settings.log_level)
    formatter = logging.Formatter(FORMAT)
    handlers: list[logging.Handler] = []
    path: Path | None = Path(settings.log_file)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _private_file(path)
        handlers.append(logging.FileHandler(path, encoding="utf-8"))
    except OSError as e:
        print(f"graphsvc: cannot write the log file {path} ({e.strerror}); "
              "warnings go to stderr (set log.file or GRAPHSVC_LOG_FILE)", file=sys.stderr)
        path = None
    if settings.log_echo or path is None:
        echo = _Stderr()
        if path is None and not settings.log_echo:
            echo.setLevel(logging.WARNING)
        handlers.append(echo)
    for handler in handlers:
        handler.setFormatter(formatter)
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    root.setLevel(level)
    if not settings.log_echo:
        # `graphsvc serve` (Flask's development server) keeps its "Running on ..."
        # and request lines on the terminal, as well as in the log file.
        served = _Stderr()
        served.setFormatter(logging.Formatter("%(message)s"))
        setattr(served, _MARK, True)
        werkzeug.addHandler(served)
    # The driver's DEBUG output is every Bolt message; keep it out even at DEBUG.
    logging.getLogger("neo4j").setLevel(max(level, logging.INFO))
    logging.captureWarnings(True)
    return path
