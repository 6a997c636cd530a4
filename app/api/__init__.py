"""Visage as a local OpenAI-compatible server: chat, speech-to-text and text-to-speech on the local models.

Qt-free. ``create_app(host)`` (``app.api.app``) builds the FastAPI app over an :class:`~app.api.host.EngineHost`:
the window's engines through the session's workers (``SessionEngines``), or engines of its own
(``OwnEngines``, ``visage serve``). ``ApiServer`` (``app.api.server``) binds and runs it. Off by default;
loopback by default; beyond loopback only with a key from the OS keyring (``app.api.keys``).
"""
