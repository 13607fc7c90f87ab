"""The `reconcile` commands: options, what each command does with a run, how it reports."""
