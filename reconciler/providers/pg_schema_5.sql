-- Schema version 5, on top of version 4: one numbering plan and one members table for
-- every kind, as in the embedded tenant (sqlite_schema_5.sql).
--
-- A number belongs to exactly one resource, of any kind: `numbers` holds each number
-- once, with the table of the resource holding it, so uniqueness across kinds is its
-- primary key, one constraint, where version 4 checked every pair of kinds in each
-- table's triggers. Each kind's table keeps its own rows there, and the rules on
-- numbers (none starts another) are checked on `numbers` alone. A member row names its
-- line by number, whatever kind the line is.
--
-- Run inside the tenant's own schema (search_path), in the one transaction that also
-- records version 5 in the catalogue; roles granted the tenant before are granted its
-- new tables there too (`pg_roles.regranted`).

CREATE TABLE numbers (
    number  TEXT COLLATE "C" PRIMARY KEY,
    held_by TEXT NOT NULL,  -- the table of the resource holding it
    UNIQUE (number, held_by)
);
INSERT INTO numbers (number, held_by)
    SELECT extension, 'users' FROM users UNION ALL SELECT number, 'shared_lines' FROM shared_lines;

-- The words for a number already held (the primary key refuses it either way), and
-- no number starting another. Checks on inserts and on updates are separate
-- functions: an expression naming OLD in an INSERT trigger cannot keep its plan.
DROP FUNCTION number_is_free(TEXT, TEXT);
CREATE FUNCTION number_is_free(candidate TEXT, own TEXT) RETURNS BOOLEAN
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- Each test on its own, so that each uses the primary key's index (the shorter
    -- numbers by equality, the longer ones by a range: ':' sorts right after '9').
    RETURN NOT EXISTS (SELECT 1 FROM numbers
                       WHERE number IN (left(candidate, 2), left(candidate, 3),
                                        left(candidate, 4))
                         AND number <> candidate AND number IS DISTINCT FROM own)
       AND NOT EXISTS (SELECT 1 FROM numbers
                       WHERE number > candidate COLLATE "C"
                         AND number < (candidate || ':') COLLATE "C"
                         AND number IS DISTINCT FROM own);
END $$;

CREATE FUNCTION number_holder_words(held_by TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE held_by WHEN 'users' THEN 'a user' WHEN 'shared_lines' THEN 'a shared line'
                        ELSE 'another resource' END
$$;

CREATE FUNCTION numbers_insert_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    holder TEXT;
BEGIN
    SELECT held_by INTO holder FROM numbers WHERE number = NEW.number;
    IF FOUND THEN
        RAISE EXCEPTION 'portal: number is already used by %', number_holder_words(holder);
    END IF;
    IF NOT number_is_free(NEW.number, NULL) THEN
        RAISE EXCEPTION 'portal: number starts, or starts with, another number';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER numbers_insert BEFORE INSERT ON numbers
FOR EACH ROW EXECUTE FUNCTION numbers_insert_check();

CREATE FUNCTION numbers_update_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    holder TEXT;
BEGIN
    IF NEW.number <> OLD.number THEN
        SELECT held_by INTO holder FROM numbers WHERE number = NEW.number;
        IF FOUND THEN
            RAISE EXCEPTION 'portal: number is already used by %', number_holder_words(holder);
        END IF;
        IF NOT number_is_free(NEW.number, OLD.number) THEN
            RAISE EXCEPTION 'portal: number starts, or starts with, another number';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER numbers_update BEFORE UPDATE OF number ON numbers
FOR EACH ROW EXECUTE FUNCTION numbers_update_check();

-- Each kind's table keeps its numbers in `numbers` (a function of its own: reading
-- NEW's number column by name, through jsonb, cost every insert a serialisation).
CREATE FUNCTION users_number_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO numbers (number, held_by) VALUES (NEW.extension, 'users');
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM numbers WHERE number = OLD.extension;
    ELSIF NEW.extension <> OLD.extension THEN
        UPDATE numbers SET number = NEW.extension WHERE number = OLD.extension;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER users_number AFTER INSERT OR DELETE OR UPDATE OF extension ON users
FOR EACH ROW EXECUTE FUNCTION users_number_kept();

CREATE FUNCTION shared_lines_number_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO numbers (number, held_by) VALUES (NEW.number, 'shared_lines');
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM numbers WHERE number = OLD.number;
    ELSIF NEW.number <> OLD.number THEN
        UPDATE numbers SET number = NEW.number WHERE number = OLD.number;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER shared_lines_number AFTER INSERT OR DELETE OR UPDATE OF number ON shared_lines
FOR EACH ROW EXECUTE FUNCTION shared_lines_number_kept();

-- The kinds' own checks, less the numbers (checked on `numbers` now).
CREATE OR REPLACE FUNCTION users_insert_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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

CREATE OR REPLACE FUNCTION users_update_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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

CREATE OR REPLACE FUNCTION shared_lines_insert_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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

CREATE OR REPLACE FUNCTION shared_lines_update_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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

-- Members of a line of any kind with members: the line named by its number, and the
-- table holding it, which must be one whose kind has members (`member_lines`: a kind
-- with members is a row here, not a change to a constraint).
CREATE TABLE member_lines (held_by TEXT PRIMARY KEY);
INSERT INTO member_lines (held_by) VALUES ('shared_lines');
CREATE TABLE members (
    line         TEXT COLLATE "C" NOT NULL,
    line_held_by TEXT NOT NULL REFERENCES member_lines (held_by),
    -- Renumbering a user carries its memberships along, as the portal keeps them.
    extension    TEXT COLLATE "C" NOT NULL REFERENCES users (extension)
                 ON DELETE RESTRICT ON UPDATE CASCADE,
    button       INTEGER CHECK (button IS NULL OR button >= 1),
    ring_delay   INTEGER NOT NULL DEFAULT 0
                 CHECK (ring_delay BETWEEN 0 AND 30 AND ring_delay % 3 = 0),
    PRIMARY KEY (line, extension),
    FOREIGN KEY (line, line_held_by) REFERENCES numbers (number, held_by)
                 ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX members_by_extension ON members (extension);
INSERT INTO members (line, line_held_by, extension, button, ring_delay)
    SELECT shared_line, 'shared_lines', extension, button, ring_delay FROM shared_line_members;
DROP TABLE shared_line_members;
CREATE TRIGGER members_allowed BEFORE INSERT ON members
FOR EACH ROW EXECUTE FUNCTION members_check();
