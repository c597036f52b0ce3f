"""The FastAPI app, served by Uvicorn: the ASGI half of the comparison."""
