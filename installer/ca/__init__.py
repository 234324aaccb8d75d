"""Trusting the per-install CA: the OS trust store, the browsers' own stores and policies."""
