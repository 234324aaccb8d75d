"""Chat message text read out of chat traffic (pure: no proxy, no models)."""
