"""Running `abhaya run` as a system service that restarts, under its own account."""
