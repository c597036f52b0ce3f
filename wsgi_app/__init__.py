"""The Flask app, served by Gunicorn: the WSGI half of the comparison."""
