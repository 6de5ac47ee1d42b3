"""The web chat, installed as ``assistant.ui`` (the folder stays at the top level of the repository).

``app.py`` lays out the Gradio page, ``server.py`` starts it with the JSON API of ``web_api.py``
and the folder watcher; ``handlers.py`` (chat) and ``handlers_index.py`` (articles, index) hold
what events do, as plain functions of ``assistant.api.Assistant``; ``render.py`` and
``render_index.py`` turn untrusted text into escaped HTML, in the words of ``i18n.py``;
``session.py`` is the conversation the browser keeps; ``markdown.py`` the copy/export format;
``corroboration.py`` what several citations say about each other.
"""
