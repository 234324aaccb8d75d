"""filters/policy."""
