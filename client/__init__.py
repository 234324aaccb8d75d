"""A thin client of the agent's control API, for the CLI's parent commands, the console and the
tray.

It holds no secret and opens no store: everything goes through the running agent over loopback
HTTP, in the shapes of `contract`.  It imports only the standard library (and tzdata for time
zones), never the store, SQLCipher, the keyring, argon2 or mitmproxy, so a client starts fast
and a process that shows the parent's screens never loads the agent's key handling.
"""
