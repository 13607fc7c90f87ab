"""The editor schemas' file names: written by `reconcile schema --write`, committed in
this package, and read by `validate` (`reconciler.loading.scalar_styles`) without importing
the code that generates them."""

SITE_FILE = "site-file.schema.json"
TENANT_FILE = "tenant-file.schema.json"
