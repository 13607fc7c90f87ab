"""Reading sites/ into a validated TenantConfig.

The tree (`config_tree`), YAML with positions (`yaml_reading`, the fast path
`yaml_events`), the models and rules (`config_loading`), and what makes loading fast
behind one seam (`speedups`: the cache of validated files, `site_file_cache`).
It may import `runtime` and `schema` only: it knows nothing of tenants or plans.
"""
