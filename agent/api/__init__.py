"""The agent's control API: loopback HTTP + JSON for the console, the tray and the CLI.

Parents log in with the PIN (`pin`) and get a session token (`sessions`); `routes` answers the
calls (with `controls`, `alerts` and `export`) in the shapes of `abhaya.client.contract`,
`server` serves them on 127.0.0.1 in a thread of the agent, and `discovery` records the port in
the data dir for the clients in `abhaya.client`.  Nothing here is reachable through the proxy:
the `guard` addon refuses such requests.
"""
