"""Reference implementation of the Visage remote API: copywriting and usage analytics, versioned under ``/v11``.

Deployable on its own (FastAPI + uvicorn): ``python -m server create-key NAME`` then ``python -m server run``.
Storage is SQLite by default and PostgreSQL when ``DATABASE_URL`` says so. See README "Remote API (server)".
"""

API_VERSION = "v11"
