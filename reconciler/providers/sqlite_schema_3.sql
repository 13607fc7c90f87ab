-- The embedded local tenant: a SQLite file standing for an iPECS Cloud tenant.
--
-- It enforces the portal's integrity itself, with constraints and triggers,
-- independently of the Python rules in schema/. A wrongly ordered or invalid
-- apply therefore fails loudly here instead of leaving a state the portal
-- would never allow. Messages start with "portal:" so the reconciler can tell
-- them from other SQLite errors.

CREATE TABLE tenant_facts (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    platform_version     TEXT NOT NULL,
    platform_major       INTEGER NOT NULL,
    shared_line_licences INTEGER NOT NULL CHECK (shared_line_licences >= 0),
    shared_licensing     INTEGER NOT NULL CHECK (shared_licensing IN (0, 1)),
    -- Kept by triggers below, so a licence check is one row read, not a count of
    -- every shared line (which made a 100,000-number apply quadratic).
    shared_lines_used    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE packages (
    name  TEXT PRIMARY KEY,
    seats INTEGER NOT NULL CHECK (seats >= 0),
    rank  INTEGER NOT NULL,
    used  INTEGER NOT NULL DEFAULT 0  -- users on this package, kept by triggers
);

CREATE TABLE users (
    extension          TEXT PRIMARY KEY
                       CHECK (length(extension) BETWEEN 2 AND 5 AND extension NOT GLOB '*[^0-9]*'),
    site               TEXT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('user', 'hot_desk_user')),
    name               TEXT NOT NULL CHECK (length(trim(name)) > 0),
    package            TEXT NOT NULL REFERENCES packages (name),
    portal_id          TEXT UNIQUE,
    email              TEXT,
    direct_dial_number TEXT,
    call_barring       TEXT,
    outgoing_caller_id TEXT,
    group_member_type  TEXT NOT NULL DEFAULT 'single_site'
                       CHECK (group_member_type IN ('single_site', 'multi_site')),
    aad_id             TEXT UNIQUE,
    devices            TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(devices)),
    mac                TEXT UNIQUE CHECK (mac IS NULL OR (length(mac) = 12
                                          AND upper(mac) NOT GLOB '*[^0-9A-F]*')),
    password_hash      TEXT,
    password_rotation  INTEGER NOT NULL DEFAULT 0 CHECK (password_rotation >= 0),
    -- 1: created or adopted by ipecs-reconciler; 0: made by hand in the portal.
    managed            INTEGER NOT NULL DEFAULT 0 CHECK (managed IN (0, 1)),
    CHECK ((kind = 'user') = (json_array_length(devices) > 0)),
    CHECK (kind = 'user' OR mac IS NULL)
);
CREATE UNIQUE INDEX users_direct_dial ON users (direct_dial_number);

CREATE TABLE shared_lines (
    number             TEXT PRIMARY KEY
                       CHECK (length(number) BETWEEN 2 AND 5 AND number NOT GLOB '*[^0-9]*'),
    site               TEXT NOT NULL,
    direct_dial_number TEXT,
    autodial_digit     TEXT,
    forward_to_vm      INTEGER NOT NULL DEFAULT 0 CHECK (forward_to_vm IN (0, 1)),
    description        TEXT,
    managed            INTEGER NOT NULL DEFAULT 0 CHECK (managed IN (0, 1))
);
CREATE UNIQUE INDEX shared_lines_direct_dial ON shared_lines (direct_dial_number);

CREATE TABLE shared_line_members (
    shared_line TEXT NOT NULL REFERENCES shared_lines (number)
                ON DELETE CASCADE ON UPDATE CASCADE,
    -- Renumbering a user carries its memberships along, as the portal keeps them.
    extension   TEXT NOT NULL REFERENCES users (extension)
                ON DELETE RESTRICT ON UPDATE CASCADE,
    button      INTEGER CHECK (button IS NULL OR button >= 1),
    ring_delay  INTEGER NOT NULL DEFAULT 0
                CHECK (ring_delay BETWEEN 0 AND 30 AND ring_delay % 3 = 0),
    PRIMARY KEY (shared_line, extension)
);
CREATE INDEX shared_line_members_by_extension ON shared_line_members (extension);

-- One numbering plan: a number belongs to a user or to a shared line, never both.
CREATE TRIGGER users_number_free BEFORE INSERT ON users
WHEN EXISTS (SELECT 1 FROM shared_lines WHERE number = NEW.extension)
BEGIN SELECT RAISE(ABORT, 'portal: number is already used by a shared line'); END;

CREATE TRIGGER users_renumber_free BEFORE UPDATE OF extension ON users
WHEN EXISTS (SELECT 1 FROM shared_lines WHERE number = NEW.extension)
BEGIN SELECT RAISE(ABORT, 'portal: number is already used by a shared line'); END;

CREATE TRIGGER shared_lines_number_free BEFORE INSERT ON shared_lines
WHEN EXISTS (SELECT 1 FROM users WHERE extension = NEW.number)
BEGIN SELECT RAISE(ABORT, 'portal: number is already used by a user'); END;

CREATE TRIGGER shared_lines_renumber_free BEFORE UPDATE OF number ON shared_lines
WHEN EXISTS (SELECT 1 FROM users WHERE extension = NEW.number)
BEGIN SELECT RAISE(ABORT, 'portal: number is already used by a user'); END;

-- No number starts another. Both directions use the primary-key indexes: the new
-- number's own prefixes by equality, the numbers it would start by a range
-- (':' sorts right after '9'), so a 100,000-number tenant stays fast.
CREATE VIEW numbers AS
    SELECT extension AS number FROM users UNION ALL SELECT number FROM shared_lines;

CREATE TRIGGER users_no_prefix BEFORE INSERT ON users
WHEN EXISTS (SELECT 1 FROM numbers WHERE number IN (substr(NEW.extension, 1, 2),
             substr(NEW.extension, 1, 3), substr(NEW.extension, 1, 4)) AND number <> NEW.extension)
  OR EXISTS (SELECT 1 FROM users WHERE extension > NEW.extension AND extension < NEW.extension || ':')
  OR EXISTS (SELECT 1 FROM shared_lines WHERE number > NEW.extension AND number < NEW.extension || ':')
BEGIN SELECT RAISE(ABORT, 'portal: number starts, or starts with, another number'); END;

CREATE TRIGGER shared_lines_no_prefix BEFORE INSERT ON shared_lines
WHEN EXISTS (SELECT 1 FROM numbers WHERE number IN (substr(NEW.number, 1, 2),
             substr(NEW.number, 1, 3), substr(NEW.number, 1, 4)) AND number <> NEW.number)
  OR EXISTS (SELECT 1 FROM users WHERE extension > NEW.number AND extension < NEW.number || ':')
  OR EXISTS (SELECT 1 FROM shared_lines WHERE number > NEW.number AND number < NEW.number || ':')
BEGIN SELECT RAISE(ABORT, 'portal: number starts, or starts with, another number'); END;

CREATE TRIGGER users_renumber_no_prefix BEFORE UPDATE OF extension ON users
WHEN NEW.extension <> OLD.extension AND (
     EXISTS (SELECT 1 FROM numbers WHERE number IN (substr(NEW.extension, 1, 2),
             substr(NEW.extension, 1, 3), substr(NEW.extension, 1, 4))
             AND number <> NEW.extension AND number <> OLD.extension)
  OR EXISTS (SELECT 1 FROM users WHERE extension > NEW.extension
             AND extension < NEW.extension || ':' AND extension <> OLD.extension)
  OR EXISTS (SELECT 1 FROM shared_lines WHERE number > NEW.extension
             AND number < NEW.extension || ':'))
BEGIN SELECT RAISE(ABORT, 'portal: number starts, or starts with, another number'); END;

CREATE TRIGGER shared_lines_renumber_no_prefix BEFORE UPDATE OF number ON shared_lines
WHEN NEW.number <> OLD.number AND (
     EXISTS (SELECT 1 FROM numbers WHERE number IN (substr(NEW.number, 1, 2),
             substr(NEW.number, 1, 3), substr(NEW.number, 1, 4))
             AND number <> NEW.number AND number <> OLD.number)
  OR EXISTS (SELECT 1 FROM users WHERE extension > NEW.number AND extension < NEW.number || ':')
  OR EXISTS (SELECT 1 FROM shared_lines WHERE number > NEW.number
             AND number < NEW.number || ':' AND number <> OLD.number))
BEGIN SELECT RAISE(ABORT, 'portal: number starts, or starts with, another number'); END;

-- A direct dial number rings one destination, user or shared line.
CREATE TRIGGER users_direct_dial_free BEFORE INSERT ON users
WHEN EXISTS (SELECT 1 FROM shared_lines WHERE direct_dial_number = NEW.direct_dial_number)
BEGIN SELECT RAISE(ABORT, 'portal: direct dial number already rings a shared line'); END;

CREATE TRIGGER users_direct_dial_change_free BEFORE UPDATE OF direct_dial_number ON users
WHEN EXISTS (SELECT 1 FROM shared_lines WHERE direct_dial_number = NEW.direct_dial_number)
BEGIN SELECT RAISE(ABORT, 'portal: direct dial number already rings a shared line'); END;

CREATE TRIGGER shared_lines_direct_dial_free BEFORE INSERT ON shared_lines
WHEN EXISTS (SELECT 1 FROM users WHERE direct_dial_number = NEW.direct_dial_number)
BEGIN SELECT RAISE(ABORT, 'portal: direct dial number already rings a user'); END;

CREATE TRIGGER shared_lines_direct_dial_change_free BEFORE UPDATE OF direct_dial_number ON shared_lines
WHEN EXISTS (SELECT 1 FROM users WHERE direct_dial_number = NEW.direct_dial_number)
BEGIN SELECT RAISE(ABORT, 'portal: direct dial number already rings a user'); END;

-- Packages are upgraded, never downgraded.
CREATE TRIGGER users_package_no_downgrade BEFORE UPDATE OF package ON users
WHEN (SELECT rank FROM packages WHERE name = NEW.package)
     < (SELECT rank FROM packages WHERE name = OLD.package)
BEGIN SELECT RAISE(ABORT, 'portal: a package can only be upgraded'); END;

-- Features by platform version.
CREATE TRIGGER users_aad_platform BEFORE INSERT ON users
WHEN NEW.aad_id IS NOT NULL AND (SELECT platform_major FROM tenant_facts) < 5
BEGIN SELECT RAISE(ABORT, 'portal: AAD ID needs platform 5.0'); END;

CREATE TRIGGER users_aad_change_platform BEFORE UPDATE OF aad_id ON users
WHEN NEW.aad_id IS NOT NULL AND (SELECT platform_major FROM tenant_facts) < 5
BEGIN SELECT RAISE(ABORT, 'portal: AAD ID needs platform 5.0'); END;

CREATE TRIGGER members_ring_delay_platform BEFORE INSERT ON shared_line_members
WHEN NEW.ring_delay > 0 AND (SELECT platform_major FROM tenant_facts) < 4
BEGIN SELECT RAISE(ABORT, 'portal: ring delay needs platform 4.0'); END;

-- User type is fixed once created (hard phone vs hot/virtual desk).
CREATE TRIGGER users_kind_fixed BEFORE UPDATE OF kind ON users
WHEN NEW.kind <> OLD.kind
BEGIN SELECT RAISE(ABORT, 'portal: a user''s type cannot change; delete and recreate it'); END;

-- Licences. Counters are kept by AFTER triggers; checks read one row.
CREATE TRIGGER shared_lines_licensed BEFORE INSERT ON shared_lines
WHEN (SELECT shared_lines_used >= shared_line_licences FROM tenant_facts)
BEGIN SELECT RAISE(ABORT, 'portal: no shared-line licence left'); END;

CREATE TRIGGER shared_lines_count_in AFTER INSERT ON shared_lines
BEGIN UPDATE tenant_facts SET shared_lines_used = shared_lines_used + 1; END;

CREATE TRIGGER shared_lines_count_out AFTER DELETE ON shared_lines
BEGIN UPDATE tenant_facts SET shared_lines_used = shared_lines_used - 1; END;

CREATE TRIGGER users_package_seat BEFORE INSERT ON users
WHEN (SELECT used >= seats FROM packages WHERE name = NEW.package)
BEGIN SELECT RAISE(ABORT, 'portal: no seat left on this package'); END;

CREATE TRIGGER users_package_change_seat BEFORE UPDATE OF package ON users
WHEN NEW.package <> OLD.package
 AND (SELECT used >= seats FROM packages WHERE name = NEW.package)
BEGIN SELECT RAISE(ABORT, 'portal: no seat left on this package'); END;

CREATE TRIGGER users_seat_taken AFTER INSERT ON users
BEGIN UPDATE packages SET used = used + 1 WHERE name = NEW.package; END;

CREATE TRIGGER users_seat_freed AFTER DELETE ON users
BEGIN UPDATE packages SET used = used - 1 WHERE name = OLD.package; END;

CREATE TRIGGER users_seat_moved AFTER UPDATE OF package ON users
WHEN NEW.package <> OLD.package
BEGIN
    UPDATE packages SET used = used - 1 WHERE name = OLD.package;
    UPDATE packages SET used = used + 1 WHERE name = NEW.package;
END;

-- Hot desk users join shared lines only on platform 6.0+ with Shared licensing.
CREATE TRIGGER members_hot_desk_allowed BEFORE INSERT ON shared_line_members
WHEN (SELECT kind FROM users WHERE extension = NEW.extension) = 'hot_desk_user'
 AND NOT (SELECT platform_major >= 6 AND shared_licensing = 1 FROM tenant_facts)
BEGIN SELECT RAISE(ABORT, 'portal: hot desk users need platform 6.0 and Shared licensing'); END;
