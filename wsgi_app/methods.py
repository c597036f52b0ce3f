"""The method rules of the Flask app: HEAD answers like GET, and every 405 lists the methods in `Allow`.

Compare with asgi_app/methods.py: Flask does both itself; what is left is to refuse OPTIONS, as FastAPI does.
"""

from __future__ import annotations

from flask import Flask

from common.settings import Settings


def init_app(app: Flask, settings: Settings) -> None:
    """Answer OPTIONS with a 405, as FastAPI does, instead of Flask's automatic OPTIONS answer."""
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
