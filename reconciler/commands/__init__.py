"""The `reconcile` commands: one module per command, its options, how it reports.

A command parses its options, calls a run (`reconciler.runs`) and says how it ended
(`reporting`: exit codes, errors in a user's words). It may import every package
below it (`pyproject.toml`'s import-linter contract); only `reconciler.cli` imports it.
"""
