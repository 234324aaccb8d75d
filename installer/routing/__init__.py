"""Routing that fails closed: web traffic reaches the internet only through the agent."""
