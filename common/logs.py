"""Logging for the apps' own messages, beside the server's: the line they print, and how to read one back."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

# "INFO:     12:00:00.123 [asgi_app 4242] merge of 'x' started ...": the time to the millisecond, since the fault
# tests and the docs read merges' order from these lines, and the worker's pid, since they read who held a merge
LINE_FORMAT = "%(levelname)s:     %(asctime)s.%(msecs)03d [{name} %(process)d] %(message)s"
APP_LINE = re.compile(
    r"(?P<level>[A-Z]+):\s+(?P<hours>\d\d):(?P<minutes>\d\d):(?P<seconds>\d\d\.\d{3}) "
    r"\[(?P<app>[\w.]+) (?P<pid>\d+)\] (?P<message>.*)"
)


def app_logger(name: str, level: str) -> logging.Logger:
    """Return the app's logger, printing to stderr at `level` like the server's own log lines."""
    # uvicorn and gunicorn configure their own loggers only, so without a handler of ours the apps'
    # info lines ("merge started") would fall through to Python's last-resort handler and be lost
    logger = logging.getLogger(name)
    logger.setLevel(level.upper())
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LINE_FORMAT.format(name=name), datefmt="%H:%M:%S"))
        logger.addHandler(handler)
        logger.propagate = False
    return logger


@dataclass(frozen=True)
class AppLine:
    """One line an app logged: when (seconds since local midnight, to the millisecond), which app and worker."""

    level: str
    seconds_of_day: float
    app: str
    pid: int
    message: str


def read_app_line(line: str) -> AppLine | None:
    """The parts of a line `app_logger` printed, or None for any other line (the server's own, a traceback)."""
    found = APP_LINE.fullmatch(line)
    if found is None:
        return None
    seconds_of_day = int(found["hours"]) * 3600 + int(found["minutes"]) * 60 + float(found["seconds"])
    return AppLine(found["level"], seconds_of_day, found["app"], int(found["pid"]), found["message"])
