"""The portal's User Setup List Download (.xlsx or .csv) as a read-only tenant, and the
upload file for its editable columns (`reconciler.output.list_upload`)."""

from reconciler.providers.list_download.tenant import ListDownloadTenant

__all__ = ["ListDownloadTenant"]
