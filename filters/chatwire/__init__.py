"""Reading chat message text out of chat traffic: pure, proxy-free, and never raising on what
the network sends.

The proxy (`agent/addons/chatread.py`) hands each request body and WebSocket message of a chat
site here and passes every `SeenMessage` read to the chat inbox.  The modules, one job each:

- `message`  the `SeenMessage` handed over, and `Read`, what one input gave (or why not);
- `jsonread` JSON from the network within size and nesting bounds;
- `discord`  Discord's web client: REST message sends and the gateway WebSocket (zlib-stream);
- `generic`  plain JSON (or form) chats, by common field names;
- `sites`    which hosts are chat sites and which adapter reads them (`data/chat_sites.toml`
             plus the policy's `[[chat.sites]]`);
- `adapters` the one place that maps a site's adapter name to its readers.
"""
