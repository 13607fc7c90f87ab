-- A tenant in PostgreSQL, schema version 4: the same portal integrity as the embedded
-- SQLite tenant (sqlite_schema_3.sql, sqlite_schema_4.sql), enforced by the server
-- with constraints and triggers, so a wrongly ordered apply fails in the server.
-- Run inside the tenant's own schema (search_path), in one transaction.
-- Messages start with "portal:" so the reconciler can tell them from other errors.

CREATE TABLE tenant_facts (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    platform_version     TEXT NOT NULL,
    platform_major       INTEGER NOT NULL,
    shared_line_licences INTEGER NOT NULL CHECK (shared_line_licences >= 0),
    shared_licensing     INTEGER NOT NULL CHECK (shared_licensing IN (0, 1)),
    shared_lines_used    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE packages (
    name  TEXT PRIMARY KEY,
    seats INTEGER NOT NULL CHECK (seats >= 0),
    rank  INTEGER NOT NULL,
    used  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE tenant_identity (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    name       TEXT NOT NULL CHECK (length(trim(name)) > 0),
    tenant_id  TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Numbers compare byte by byte ("C"), so that a range finds the numbers a prefix starts.
CREATE TABLE users (
    extension          TEXT COLLATE "C" PRIMARY KEY CHECK (extension ~ '^[0-9]{2,5}$'),
    site               TEXT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('user', 'hot_desk_user')),
    name               TEXT NOT NULL CHECK (length(trim(name)) > 0),
    package            TEXT NOT NULL REFERENCES packages (name),
    portal_id          TEXT UNIQUE,
    email              TEXT,
    direct_dial_number TEXT UNIQUE,
    call_barring       TEXT,
    outgoing_caller_id TEXT,
    group_member_type  TEXT NOT NULL DEFAULT 'single_site'
                       CHECK (group_member_type IN ('single_site', 'multi_site')),
    aad_id             TEXT UNIQUE,
    devices            TEXT NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(devices::jsonb) = 'array'),
    mac                TEXT UNIQUE CHECK (mac IS NULL OR mac ~ '^[0-9A-Fa-f]{12}$'),
    password_hash      TEXT,
    password_rotation  INTEGER NOT NULL DEFAULT 0 CHECK (password_rotation >= 0),
    -- 1: created or adopted by ipecs-reconciler; 0: made by hand in the portal.
    managed            INTEGER NOT NULL DEFAULT 0 CHECK (managed IN (0, 1)),
    uid                TEXT NOT NULL UNIQUE DEFAULT md5(random()::text || clock_timestamp()::text),
    renumbered_from    TEXT,
    password_from      TEXT,
    CHECK ((kind = 'user') = (jsonb_array_length(devices::jsonb) > 0)),
    CHECK (kind = 'user' OR mac IS NULL)
);

CREATE TABLE shared_lines (
    number             TEXT COLLATE "C" PRIMARY KEY CHECK (number ~ '^[0-9]{2,5}$'),
    site               TEXT NOT NULL,
    direct_dial_number TEXT UNIQUE,
    autodial_digit     TEXT,
    forward_to_vm      INTEGER NOT NULL DEFAULT 0 CHECK (forward_to_vm IN (0, 1)),
    description        TEXT,
    managed            INTEGER NOT NULL DEFAULT 0 CHECK (managed IN (0, 1)),
    uid                TEXT NOT NULL UNIQUE DEFAULT md5(random()::text || clock_timestamp()::text),
    renumbered_from    TEXT
);

CREATE TABLE shared_line_members (
    shared_line TEXT COLLATE "C" NOT NULL REFERENCES shared_lines (number)
                ON DELETE CASCADE ON UPDATE CASCADE,
    -- Renumbering a user carries its memberships along, as the portal keeps them.
    extension   TEXT COLLATE "C" NOT NULL REFERENCES users (extension)
                ON DELETE RESTRICT ON UPDATE CASCADE,
    button      INTEGER CHECK (button IS NULL OR button >= 1),
    ring_delay  INTEGER NOT NULL DEFAULT 0
                CHECK (ring_delay BETWEEN 0 AND 30 AND ring_delay % 3 = 0),
    PRIMARY KEY (shared_line, extension)
);
CREATE INDEX shared_line_members_by_extension ON shared_line_members (extension);

CREATE TABLE apply_journal (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    plan_checksum TEXT NOT NULL,
    total_steps   INTEGER NOT NULL CHECK (total_steps >= 0),
    steps_done    INTEGER NOT NULL DEFAULT 0 CHECK (steps_done BETWEEN 0 AND total_steps),
    started_at    TEXT NOT NULL,
    started_by    TEXT NOT NULL
);

CREATE TABLE parked (
    uid         TEXT PRIMARY KEY,
    heading_for TEXT NOT NULL
);

-- A step's UPDATE or DELETE must find its resource. Checked here, in the server, so
-- a step is sent as one pipeline and waits for no answer before its COMMIT.
CREATE FUNCTION expect_one_row(changed BIGINT, missing TEXT) RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
    IF changed <> 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'no_data_found', MESSAGE = missing;
    END IF;
END $$;

-- One numbering plan: no number starts another (a number used twice in one table is
-- refused by its primary key; across tables, by the triggers below).
CREATE FUNCTION number_is_free(candidate TEXT, own TEXT) RETURNS BOOLEAN
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- Each test on its own, so that each uses a primary-key index (the shorter numbers
    -- by equality, the longer ones by a range: ':' sorts right after '9'). PL/pgSQL,
    -- not SQL, so that the server plans these once per session, not once per call.
    RETURN NOT EXISTS (SELECT 1 FROM users
                       WHERE extension IN (left(candidate, 2), left(candidate, 3),
                                           left(candidate, 4))
                         AND extension <> candidate AND extension IS DISTINCT FROM own)
       AND NOT EXISTS (SELECT 1 FROM shared_lines
                       WHERE number IN (left(candidate, 2), left(candidate, 3),
                                        left(candidate, 4))
                         AND number <> candidate AND number IS DISTINCT FROM own)
       AND NOT EXISTS (SELECT 1 FROM users
                       WHERE extension > candidate COLLATE "C"
                         AND extension < (candidate || ':') COLLATE "C"
                         AND extension IS DISTINCT FROM own)
       AND NOT EXISTS (SELECT 1 FROM shared_lines
                       WHERE number > candidate COLLATE "C"
                         AND number < (candidate || ':') COLLATE "C"
                         AND number IS DISTINCT FROM own);
END $$;

-- Checks on inserts and on updates are separate functions: an expression naming OLD
-- in an INSERT trigger cannot keep its plan, which made every insert 4x slower.
CREATE FUNCTION users_insert_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM shared_lines WHERE number = NEW.extension) THEN
        RAISE EXCEPTION 'portal: number is already used by a shared line';
    END IF;
    IF NOT number_is_free(NEW.extension, NULL) THEN
        RAISE EXCEPTION 'portal: number starts, or starts with, another number';
    END IF;
    IF NEW.direct_dial_number IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM shared_lines
                   WHERE direct_dial_number = NEW.direct_dial_number) THEN
            RAISE EXCEPTION 'portal: direct dial number already rings a shared line';
        END IF;
    END IF;
    IF NEW.aad_id IS NOT NULL THEN
        IF (SELECT platform_major FROM tenant_facts) < 5 THEN
            RAISE EXCEPTION 'portal: AAD ID needs platform 5.0';
        END IF;
    END IF;
    IF (SELECT used >= seats FROM packages WHERE name = NEW.package) THEN
        RAISE EXCEPTION 'portal: no seat left on this package';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER users_insert BEFORE INSERT ON users
FOR EACH ROW EXECUTE FUNCTION users_insert_check();

CREATE FUNCTION users_update_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.extension <> OLD.extension THEN
        IF EXISTS (SELECT 1 FROM shared_lines WHERE number = NEW.extension) THEN
            RAISE EXCEPTION 'portal: number is already used by a shared line';
        END IF;
        IF NOT number_is_free(NEW.extension, OLD.extension) THEN
            RAISE EXCEPTION 'portal: number starts, or starts with, another number';
        END IF;
    END IF;
    IF NEW.direct_dial_number IS DISTINCT FROM OLD.direct_dial_number
       AND NEW.direct_dial_number IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM shared_lines
                   WHERE direct_dial_number = NEW.direct_dial_number) THEN
            RAISE EXCEPTION 'portal: direct dial number already rings a shared line';
        END IF;
    END IF;
    IF NEW.aad_id IS NOT NULL THEN
        IF (SELECT platform_major FROM tenant_facts) < 5 THEN
            RAISE EXCEPTION 'portal: AAD ID needs platform 5.0';
        END IF;
    END IF;
    IF NEW.kind <> OLD.kind THEN
        RAISE EXCEPTION 'portal: a user''s type cannot change; delete and recreate it';
    END IF;
    IF NEW.uid <> OLD.uid THEN
        RAISE EXCEPTION 'portal: a resource keeps its identity';
    END IF;
    IF NEW.package <> OLD.package THEN
        IF (SELECT rank FROM packages WHERE name = NEW.package)
           < (SELECT rank FROM packages WHERE name = OLD.package) THEN
            RAISE EXCEPTION 'portal: a package can only be upgraded';
        END IF;
        IF (SELECT used >= seats FROM packages WHERE name = NEW.package) THEN
            RAISE EXCEPTION 'portal: no seat left on this package';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER users_update BEFORE UPDATE ON users
FOR EACH ROW EXECUTE FUNCTION users_update_check();

CREATE FUNCTION shared_lines_insert_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM users WHERE extension = NEW.number) THEN
        RAISE EXCEPTION 'portal: number is already used by a user';
    END IF;
    IF NOT number_is_free(NEW.number, NULL) THEN
        RAISE EXCEPTION 'portal: number starts, or starts with, another number';
    END IF;
    IF NEW.direct_dial_number IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM users WHERE direct_dial_number = NEW.direct_dial_number) THEN
            RAISE EXCEPTION 'portal: direct dial number already rings a user';
        END IF;
    END IF;
    IF (SELECT shared_lines_used >= shared_line_licences FROM tenant_facts) THEN
        RAISE EXCEPTION 'portal: no shared-line licence left';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER shared_lines_insert BEFORE INSERT ON shared_lines
FOR EACH ROW EXECUTE FUNCTION shared_lines_insert_check();

CREATE FUNCTION shared_lines_update_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.number <> OLD.number THEN
        IF EXISTS (SELECT 1 FROM users WHERE extension = NEW.number) THEN
            RAISE EXCEPTION 'portal: number is already used by a user';
        END IF;
        IF NOT number_is_free(NEW.number, OLD.number) THEN
            RAISE EXCEPTION 'portal: number starts, or starts with, another number';
        END IF;
    END IF;
    IF NEW.direct_dial_number IS DISTINCT FROM OLD.direct_dial_number
       AND NEW.direct_dial_number IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM users WHERE direct_dial_number = NEW.direct_dial_number) THEN
            RAISE EXCEPTION 'portal: direct dial number already rings a user';
        END IF;
    END IF;
    IF NEW.uid <> OLD.uid THEN
        RAISE EXCEPTION 'portal: a resource keeps its identity';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER shared_lines_update BEFORE UPDATE ON shared_lines
FOR EACH ROW EXECUTE FUNCTION shared_lines_update_check();

-- Seat and licence counters, kept by the server so a check reads one row.
CREATE FUNCTION users_seat_taken() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE packages SET used = used + 1 WHERE name = NEW.package;
    RETURN NULL;
END $$;
CREATE TRIGGER users_seat_in AFTER INSERT ON users
FOR EACH ROW EXECUTE FUNCTION users_seat_taken();

CREATE FUNCTION users_seat_freed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE packages SET used = used - 1 WHERE name = OLD.package;
    DELETE FROM parked WHERE uid = OLD.uid;
    RETURN NULL;
END $$;
CREATE TRIGGER users_seat_out AFTER DELETE ON users
FOR EACH ROW EXECUTE FUNCTION users_seat_freed();

CREATE FUNCTION users_seat_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.package <> OLD.package THEN
        UPDATE packages SET used = used - 1 WHERE name = OLD.package;
        UPDATE packages SET used = used + 1 WHERE name = NEW.package;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER users_seat_move AFTER UPDATE OF package ON users
FOR EACH ROW EXECUTE FUNCTION users_seat_moved();

CREATE FUNCTION shared_line_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tenant_facts SET shared_lines_used = shared_lines_used + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER shared_lines_in AFTER INSERT ON shared_lines
FOR EACH ROW EXECUTE FUNCTION shared_line_counted();

CREATE FUNCTION shared_line_uncounted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tenant_facts SET shared_lines_used = shared_lines_used - 1;
    DELETE FROM parked WHERE uid = OLD.uid;
    RETURN NULL;
END $$;
CREATE TRIGGER shared_lines_out AFTER DELETE ON shared_lines
FOR EACH ROW EXECUTE FUNCTION shared_line_uncounted();

-- Members: ring delay needs 4.0; hot desk users need 6.0 and Shared licensing.
CREATE FUNCTION members_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.ring_delay > 0 AND (SELECT platform_major FROM tenant_facts) < 4 THEN
        RAISE EXCEPTION 'portal: ring delay needs platform 4.0';
    END IF;
    IF (SELECT kind FROM users WHERE extension = NEW.extension) = 'hot_desk_user'
       AND NOT (SELECT platform_major >= 6 AND shared_licensing = 1 FROM tenant_facts) THEN
        RAISE EXCEPTION 'portal: hot desk users need platform 6.0 and Shared licensing';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER members_allowed BEFORE INSERT ON shared_line_members
FOR EACH ROW EXECUTE FUNCTION members_check();
