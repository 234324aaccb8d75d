"""The parent console: a Qt (PySide6) client of the agent's control API.

It holds no store, keyring or database key: every answer comes through `abhaya.client`.  The
layers follow STYLE.md point 8: `service.py` is the one narrow door to the API, `runner.py` runs
its calls off the UI thread, `controllers/` hold the logic (what to fetch, what a state means,
which words to show) and `views/` hold only layout.  `app.py` assembles them (`run_console`).
"""
