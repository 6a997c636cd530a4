"""The running assistant, above the core, the store and sync: :class:`~app.session.session.Session`, the façade
the window (``app.ui.bridge.CoreBridge``) and ``visage listen`` drive.

- :mod:`app.session.session`: :class:`Session`, the conversation, turns, microphone and speaker around one
  :class:`~app.core.pipeline.Pipeline`.
- :mod:`app.session.engine_host`: :class:`EngineHost`, the engines loaded once through
  :func:`app.core.assembly.build_engines`, warmed up, and lent to the copy studio and the local API.
- :mod:`app.session.audio`: the sound card (:class:`AudioBackend`, :class:`DeviceAudio`) and the open
  :class:`Microphone` (push-to-talk, or hands-free behind the echo gate).
- :mod:`app.session.conversation`: the open :class:`Conversation` (its id and the history the model sees).
- :mod:`app.session.sync_link`: the opt-in sync sender over the session's store.

Qt-free. The session reports through ``notify(name, payload)`` (names typed: :data:`app.core.reports.Report`);
the Qt bridge implements :class:`app.core.reports.SessionListener`, whose method for each name emits its
``sig_<name>`` signal:

=================  ======================================================================
name               payload
=================  ======================================================================
``state``          "loading" | "idle" | "listening" | "transcribing" | "thinking" | "speaking"
``models``         ``(done, total, label)`` while loading
``ready``          a one-line summary of the engines in use
``failed``         a message saying what is missing and how to fix it (text history still works)
``audio``          ``(ok, message)``: voice on/off and why
``transcript``     ``(turn_id, text)``: what the user said
``saved``          ``(turn_id, message_id)``: the user's message is stored
``token``          ``(turn_id, text)``: a piece of the reply
``chunk``          ``(AudioChunk, offset_s)``: speech queued at ``offset_s`` on the speaker clock
``finished``       :class:`~app.core.events.TurnFinished`
``notice``         ``(level, message)``: fallbacks and problems the user must see
``conversations``  ``list[ConversationSummary]``
``conversation``   :class:`~app.store.records.Conversation` (opened, or changed)
``search``         ``(query, list[SearchHit])``
``deleted``        ``(conversation_id, title)``: can be undone with :meth:`Session.restore`
``hands_free``     ``False``: hands-free listening stopped
``error``          a message for the user
``sync``           ``(enabled, SyncStatus | None)``: the opt-in sync (``app.sync``) and its sender's state
=================  ======================================================================
"""
