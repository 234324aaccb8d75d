"""Managed browser policies: no DNS-over-HTTPS or QUIC around the agent, its proxy fixed."""
