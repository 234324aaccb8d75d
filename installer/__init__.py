"""Installing Abhaya as a system service: CA trust, the service, routing that fails closed and
browser policies, one interface per concern and one backend per OS.

An install is a `Plan`: an ordered list of `Step`s, each of which says in words (and in exact
files and commands) what it will do, does it, and leaves in the install journal what undoing it
needs.  `abhaya install --dry-run` prints the plan; `abhaya install` applies it and rolls back
on a failure half-way; `abhaya uninstall` undoes the journal in reverse, so the machine is left
as it was whatever policy is in force by then; `abhaya doctor` asks every concern's checks.
"""
