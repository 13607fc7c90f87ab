-- Schema version 4, on top of version 3 (sqlite_schema.sql): identity and the journal.
--
-- A new tenant runs both scripts, an older tenant only this one (`reconcile
-- tenant migrate`, or the next apply), so both end in the same shape. Every
-- statement runs in the one transaction that also sets user_version to 4.

-- Whose tenant this is. A config naming another tenant is refused before
-- anything is planned; `reconcile tenant rename` is the one way to change it.
CREATE TABLE tenant_identity (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    name       TEXT NOT NULL CHECK (length(trim(name)) > 0),
    tenant_id  TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Every resource keeps one identity for life, whatever number it has. A
-- renumber records the number it came from, so "previous" is matched by
-- identity: a renumber already carried out is recognised as done.
-- (users.password_from came later: sqlite_schema_4_late.sql.)
ALTER TABLE users ADD COLUMN uid TEXT;
ALTER TABLE users ADD COLUMN renumbered_from TEXT;
ALTER TABLE shared_lines ADD COLUMN uid TEXT;
ALTER TABLE shared_lines ADD COLUMN renumbered_from TEXT;
UPDATE users SET uid = lower(hex(randomblob(16)));
UPDATE shared_lines SET uid = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX users_uid ON users (uid);
CREATE UNIQUE INDEX shared_lines_uid ON shared_lines (uid);

-- The tenant gives each new resource its identity, however it was made (by an
-- apply, or by hand in the portal), and never changes it.
CREATE TRIGGER users_uid_given AFTER INSERT ON users WHEN NEW.uid IS NULL
BEGIN UPDATE users SET uid = lower(hex(randomblob(16))) WHERE rowid = NEW.rowid; END;
CREATE TRIGGER shared_lines_uid_given AFTER INSERT ON shared_lines WHEN NEW.uid IS NULL
BEGIN UPDATE shared_lines SET uid = lower(hex(randomblob(16))) WHERE rowid = NEW.rowid; END;
CREATE TRIGGER users_uid_fixed BEFORE UPDATE OF uid ON users
WHEN OLD.uid IS NOT NULL AND NEW.uid IS NOT OLD.uid
BEGIN SELECT RAISE(ABORT, 'portal: a resource keeps its identity'); END;
CREATE TRIGGER shared_lines_uid_fixed BEFORE UPDATE OF uid ON shared_lines
WHEN OLD.uid IS NOT NULL AND NEW.uid IS NOT OLD.uid
BEGIN SELECT RAISE(ABORT, 'portal: a resource keeps its identity'); END;

-- The apply in progress, if any: which plan, and how many of its steps are done.
-- Each step updates steps_done in its own transaction, so the count is exact
-- whenever the process dies.
CREATE TABLE apply_journal (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    plan_checksum TEXT NOT NULL,
    total_steps   INTEGER NOT NULL CHECK (total_steps >= 0),
    steps_done    INTEGER NOT NULL DEFAULT 0 CHECK (steps_done BETWEEN 0 AND total_steps),
    started_at    TEXT NOT NULL,
    started_by    TEXT NOT NULL
);

-- Resources a swap parked on a temporary number, with the number each is
-- heading for: the next plan finishes the swap instead of deleting them.
CREATE TABLE parked (
    uid         TEXT PRIMARY KEY,
    heading_for TEXT NOT NULL
);

CREATE TRIGGER users_unpark_on_delete AFTER DELETE ON users
BEGIN DELETE FROM parked WHERE uid = OLD.uid; END;
CREATE TRIGGER shared_lines_unpark_on_delete AFTER DELETE ON shared_lines
BEGIN DELETE FROM parked WHERE uid = OLD.uid; END;
