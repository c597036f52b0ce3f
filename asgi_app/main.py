"""Entry point: `uvicorn asgi_app.main:app`."""

from asgi_app.app import create_app

app = create_app()
