"""Writing sites/ trees: import from a tenant, `import --update`'s edits, `reconcile fmt`."""
