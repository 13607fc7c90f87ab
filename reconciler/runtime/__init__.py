"""What every layer may use: the exception tree, signals, stdout, failpoints, GC pauses
in bulk phases, passwords masked in URLs. It imports nothing of ours but `schema`."""
