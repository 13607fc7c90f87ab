"""Writing sites/ trees: import from a tenant, `import --update`'s edits, `reconcile fmt`.

The only package that writes the config tree; it plans through `reconciler.runs` to
check what it wrote, and is imported by the commands alone."""
