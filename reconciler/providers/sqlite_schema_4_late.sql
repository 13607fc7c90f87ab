-- Added to schema 4 after its first release, without a new version number. A tenant
-- of that release (user_version 4, no users.password_from) gets it like a migration;
-- every newer tenant, new or migrated, runs this after sqlite_schema_4.sql, so all
-- end in the same shape.

-- The reference a password was last set from ($RECONCILER_PW_...), never the value:
-- a password added to an existing user is then seen as a change.
ALTER TABLE users ADD COLUMN password_from TEXT;
-- Passwords set before this was recorded: set from somewhere ('*'), not set again.
UPDATE users SET password_from = '*' WHERE password_hash IS NOT NULL AND password_from IS NULL;
