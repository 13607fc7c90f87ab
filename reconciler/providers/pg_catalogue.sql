-- The catalogue of tenants a PostgreSQL database holds, one schema each, and who
-- holds each tenant's lock. Created once per database, in one transaction.

CREATE SCHEMA IF NOT EXISTS reconciler;

-- A tenant is found by its key: `?tenant=` in the URL, which the job sets (never
-- tenant.yaml's `tenant:`, which a pull request can edit).
CREATE TABLE IF NOT EXISTS reconciler.tenants (
    key            TEXT PRIMARY KEY,
    schema_name    TEXT NOT NULL UNIQUE,
    schema_version INTEGER NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Whose each tenant is (its tenant_identity's name), once per owner: a customer's
-- tenant is never made twice under two keys. Added after the first release: a
-- catalogue made before has it added here, its rows' owners left unknown (NULL).
ALTER TABLE reconciler.tenants ADD COLUMN IF NOT EXISTS owner TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS tenants_owner ON reconciler.tenants (owner);

CREATE SEQUENCE IF NOT EXISTS reconciler.tenant_schemas;

-- Who holds a tenant's advisory lock. The lock itself is the truth (the server
-- releases it when the holder's connection ends); a row whose backend no longer
-- holds the lock is stale and ignored.
CREATE TABLE IF NOT EXISTS reconciler.lock_holders (
    tenant_key  TEXT PRIMARY KEY,
    backend_pid INTEGER NOT NULL,
    holder      TEXT NOT NULL
);
