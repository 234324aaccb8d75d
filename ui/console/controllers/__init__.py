"""The console's logic: what to ask the agent, what its answers mean, which words to show.

Controllers take the service, the runner and the texts, never widgets' internals: they emit
plain, ready-to-show values and the views only lay them out.
"""
