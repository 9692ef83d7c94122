"""The WSGI entry point for gunicorn: ``gunicorn wsgi:app``.

Without CIVIC_ENV this is the production configuration, which refuses to start without a strong
SECRET_KEY and a DATABASE_URL.
"""

from civic import create_app

app = create_app()
