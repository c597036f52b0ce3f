"""Logging for the apps' own messages, beside the server's."""

from __future__ import annotations

import logging


def app_logger(name: str, level: str) -> logging.Logger:
    """Return the app's logger, printing to stderr at `level` like the server's own log lines."""
    # uvicorn and gunicorn configure their own loggers only, so without a handler of ours the apps'
    # info lines ("merge started") would fall through to Python's last-resort handler and be lost
    logger = logging.getLogger(name)
    logger.setLevel(level.upper())
    if not logger.handlers:
        handler = logging.StreamHandler()
        # the time to the millisecond: the fault tests and the docs read merges' order from these lines
        line = f"%(levelname)s:     %(asctime)s.%(msecs)03d [{name} %(process)d] %(message)s"
        handler.setFormatter(logging.Formatter(line, datefmt="%H:%M:%S"))
        logger.addHandler(handler)
        logger.propagate = False
    return logger
