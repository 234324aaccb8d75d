"""The API agent fixtures, for addon tests that need a parent's decisions (ask a parent)."""

from tests.agent.api.conftest import api_agent, shared, with_pin  # noqa: F401
