"""The web chat (Gradio): ``app.py`` lays out the page, ``handlers.py`` holds what its events do
(plain functions of the assistant), ``render.py`` turns untrusted text into escaped HTML."""
