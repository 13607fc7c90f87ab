-- Schema version 5, on top of version 4: one numbering plan and one members table for
-- every kind.
--
-- A number belongs to exactly one resource, of any kind: `numbers` holds each number
-- once, with the table of the resource holding it, so uniqueness across kinds is its
-- primary key, one constraint, where version 4 kept a trigger for every pair of kinds.
-- Each kind's table keeps its own rows there (three triggers a table: in, moved,
-- out), and the rules on numbers (none starts another) are triggers on `numbers`
-- alone. A member row names its line by number, whatever kind the line is; renumbering
-- or deleting the line carries its members along through `numbers`.
--
-- Run in the one transaction that also sets user_version to 5, by a new tenant after
-- the earlier scripts, by an older one on its own (`reconcile tenant migrate`, or the
-- next apply): both end in the same shape.

DROP VIEW numbers;
DROP TRIGGER users_number_free;
DROP TRIGGER users_renumber_free;
DROP TRIGGER shared_lines_number_free;
DROP TRIGGER shared_lines_renumber_free;
DROP TRIGGER users_no_prefix;
DROP TRIGGER shared_lines_no_prefix;
DROP TRIGGER users_renumber_no_prefix;
DROP TRIGGER shared_lines_renumber_no_prefix;

-- WITHOUT ROWID: the number is the row's key, one B-tree fewer to write per number
-- (2-4% off an apply: BENCHMARKS.md).
CREATE TABLE numbers (
    number  TEXT PRIMARY KEY,
    held_by TEXT NOT NULL,  -- the table of the resource holding it
    UNIQUE (number, held_by)
) WITHOUT ROWID;
INSERT INTO numbers (number, held_by)
    SELECT extension, 'users' FROM users UNION ALL SELECT number, 'shared_lines' FROM shared_lines;

-- The rules on a number, whatever holds it, in one trigger for a new number and one
-- for a moved one (a trigger fired costs more than its probes): the words for a number
-- already held (the primary key refuses it either way), one statement per kind of
-- holder; then no number starting another. The new number's own prefixes by equality,
-- the numbers it would start by a range (':' sorts right after '9'): all on the
-- primary key, so a 100,000-number tenant stays fast.
CREATE TRIGGER numbers_checked BEFORE INSERT ON numbers
BEGIN
    SELECT RAISE(ABORT, 'portal: number is already used by a user')
    FROM numbers WHERE number = NEW.number AND held_by = 'users';
    SELECT RAISE(ABORT, 'portal: number is already used by a shared line')
    FROM numbers WHERE number = NEW.number AND held_by = 'shared_lines';
    SELECT RAISE(ABORT, 'portal: number starts, or starts with, another number')
    WHERE EXISTS (SELECT 1 FROM numbers WHERE number IN (substr(NEW.number, 1, 2),
                  substr(NEW.number, 1, 3), substr(NEW.number, 1, 4)) AND number <> NEW.number)
       OR EXISTS (SELECT 1 FROM numbers WHERE number > NEW.number
                  AND number < NEW.number || ':');
END;
CREATE TRIGGER numbers_moved_checked BEFORE UPDATE OF number ON numbers
WHEN NEW.number <> OLD.number
BEGIN
    SELECT RAISE(ABORT, 'portal: number is already used by a user')
    FROM numbers WHERE number = NEW.number AND held_by = 'users';
    SELECT RAISE(ABORT, 'portal: number is already used by a shared line')
    FROM numbers WHERE number = NEW.number AND held_by = 'shared_lines';
    SELECT RAISE(ABORT, 'portal: number starts, or starts with, another number')
    WHERE EXISTS (SELECT 1 FROM numbers WHERE number IN (substr(NEW.number, 1, 2),
                  substr(NEW.number, 1, 3), substr(NEW.number, 1, 4))
                  AND number <> NEW.number AND number <> OLD.number)
       OR EXISTS (SELECT 1 FROM numbers WHERE number > NEW.number
                  AND number < NEW.number || ':' AND number <> OLD.number);
END;

-- Each kind's table keeps its numbers in `numbers`.
CREATE TRIGGER users_number_in AFTER INSERT ON users
BEGIN INSERT INTO numbers (number, held_by) VALUES (NEW.extension, 'users'); END;
CREATE TRIGGER users_number_moved AFTER UPDATE OF extension ON users
WHEN NEW.extension <> OLD.extension
BEGIN UPDATE numbers SET number = NEW.extension WHERE number = OLD.extension; END;
CREATE TRIGGER users_number_out AFTER DELETE ON users
BEGIN DELETE FROM numbers WHERE number = OLD.extension; END;
CREATE TRIGGER shared_lines_number_in AFTER INSERT ON shared_lines
BEGIN INSERT INTO numbers (number, held_by) VALUES (NEW.number, 'shared_lines'); END;
CREATE TRIGGER shared_lines_number_moved AFTER UPDATE OF number ON shared_lines
WHEN NEW.number <> OLD.number
BEGIN UPDATE numbers SET number = NEW.number WHERE number = OLD.number; END;
CREATE TRIGGER shared_lines_number_out AFTER DELETE ON shared_lines
BEGIN DELETE FROM numbers WHERE number = OLD.number; END;

-- Members of a line of any kind with members: the line named by its number, and the
-- table holding it, which must be one whose kind has members (`member_lines`: a kind
-- with members is a row here, not a change to a constraint).
CREATE TABLE member_lines (held_by TEXT PRIMARY KEY);
INSERT INTO member_lines (held_by) VALUES ('shared_lines');
CREATE TABLE members (
    line         TEXT NOT NULL,
    line_held_by TEXT NOT NULL REFERENCES member_lines (held_by),
    -- Renumbering a user carries its memberships along, as the portal keeps them.
    extension    TEXT NOT NULL REFERENCES users (extension)
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

CREATE TRIGGER members_ring_delay_platform BEFORE INSERT ON members
WHEN NEW.ring_delay > 0 AND (SELECT platform_major FROM tenant_facts) < 4
BEGIN SELECT RAISE(ABORT, 'portal: ring delay needs platform 4.0'); END;

CREATE TRIGGER members_hot_desk_allowed BEFORE INSERT ON members
WHEN (SELECT kind FROM users WHERE extension = NEW.extension) = 'hot_desk_user'
 AND NOT (SELECT platform_major >= 6 AND shared_licensing = 1 FROM tenant_facts)
BEGIN SELECT RAISE(ABORT, 'portal: hot desk users need platform 6.0 and Shared licensing'); END;
