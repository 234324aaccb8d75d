"""The tray: a pystray icon showing whether protection is on, with quick parent actions.

It runs in its own process as a client of the agent's control API (`abhaya.client`), never
touching the store, the keyring or SQLCipher.  `controller` holds the logic (pure, tested
directly), `service` is the narrow link to the API, `icon` and `pindialog` are the views.
"""
