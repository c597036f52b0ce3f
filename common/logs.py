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
        handler.setFormatter(logging.Formatter(f"%(levelname)s:     [{name} %(process)d] %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    return logger
