"""The agent's own account, its folders, the installed policy and the per-install CA."""
