"""Every rule the reconciler enforces, once, with a stable identifier and its source.

Field checks (in `schema.fields`) and cross-object checks (in `schema.rules`) both
name their rule from here, and docs/rules.md's table is tested against this list,
so a rule cannot exist without being documented.

`basis` follows ../shared/domain/FACTS.md section 12: "documented" (a vendor or
reseller page says so), "inferred" (we assume it), "page" (only the announcement
page this project started from shows it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Basis = Literal["documented", "inferred", "page", "tool"]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    summary: str
    basis: Basis
    source: str


RULES: dict[str, Rule] = {}


def _rule(rule_id: str, summary: str, basis: Basis, source: str) -> Rule:
    rule = Rule(rule_id, summary, basis, source)
    RULES[rule_id] = rule
    return rule


# --- the shape of the files -------------------------------------------------
YAML_SYNTAX = _rule("yaml.syntax", "Files are valid YAML.", "tool", "PyYAML")
YAML_DUPLICATE_KEY = _rule(
    "yaml.duplicate-key", "A mapping names each key once.", "tool", "YAML 1.2 spec"
)
UNKNOWN_FIELD = _rule("schema.unknown-field", "Only known fields are accepted.", "tool", "design")
MISSING_FIELD = _rule("schema.missing-field", "Required fields are present.", "tool", "portal form")
WRONG_TYPE = _rule("schema.type", "Each field has the type the model gives it.", "tool", "design")
CONFIG_LAYOUT = _rule(
    "config.layout",
    "sites/tenant.yaml exists; each site is a folder of .yaml files.",
    "tool",
    "design",
)
EMPTY_FILE = _rule(
    "config.empty-file",
    "(warning) A site file declares something: an emptied or truncated file deletes what "
    "it held.",
    "tool",
    "design: the slip the safety rails catch, said at validate",
)
SCALAR_TYPE = _rule(
    "yaml.scalar-type",
    "(warning) Text that looks like a number is quoted (\"0901\"), and a number is not: "
    "editors and other YAML 1.2 tools read a bare 0901 as the number 901, a quoted \"1\" "
    "as text.",
    "tool",
    "YAML 1.2 core schema; the editor schema (reconcile schema)",
)
CONFIG_LIMITS = _rule(
    "config.limits",
    "Input stays within documented limits: file size, number of files, nesting depth, "
    "alias expansion.",
    "tool",
    "design: configs come from pull requests and may be hostile",
)
YAML_MERGE_KEY = _rule(
    "yaml.merge-key",
    "No YAML merge keys (<<): each entry writes its own fields.",
    "tool",
    "design: merge keys hide which file sets a value, and can expand without bound",
)
TEXT_FORMAT = _rule(
    "field.text",
    "Text fields (names, descriptions, site and package names) have no control characters "
    "and a length limit.",
    "tool",
    "design: the portal's limits are not published; these keep every value printable",
)
VALUE_RANGE = _rule(
    "field.range",
    "Counts and numbers are within the portal's ranges (buttons, seats, licences, "
    "rotation counters).",
    "tool",
    "design: an out-of-range value fails at validate, never as an apply-time overflow",
)

# --- numbers ----------------------------------------------------------------
NUMBER_FORMAT = _rule(
    "numbering.format",
    "Extensions and shared-line digit numbers are 2-5 digit strings; leading zeros count.",
    "page",
    "announcement page: Extension and Digit Number '2 - 5 Digit'",
)
NUMBER_DUPLICATE = _rule(
    "numbering.duplicate",
    "A number is used once in the tenant across users, hot desk users and shared lines.",
    "inferred",
    "FACTS 12.15; on-prem 'conflicts in the Numbering Plan are not allowed'",
)
NUMBER_PREFIX = _rule(
    "numbering.prefix-collision",
    "No number is the start of another (a 2-digit 55 blocks every number starting 55).",
    "inferred",
    "FACTS 12.15; on-prem numbering plan conflicts",
)
FEATURE_CODE_COLLISION = _rule(
    "numbering.feature-code-collision",
    "No number equals, starts or is started by one of the tenant's feature codes.",
    "inferred",
    "FACTS 12.15-16: feature codes are set per customer",
)
DIRECT_DIAL_DUPLICATE = _rule(
    "numbering.direct-dial-duplicate",
    "A direct dial number rings one user or shared line.",
    "inferred",
    "a DDI routes to one destination",
)
PHONE_NUMBER_FORMAT = _rule(
    "field.phone-number",
    "Direct dial, caller ID and autodial values are digits (an optional leading +).",
    "inferred",
    "announcement page shows digits only",
)

# --- users --------------------------------------------------------------------
NAME_EMPTY = _rule("user.name", "A user has a non-empty name.", "page", "announcement page")
EMAIL_FORMAT = _rule(
    "user.email-format", "An e-mail address is well formed (or absent).", "inferred", "FACTS 12.10"
)
PORTAL_ID_FORMAT = _rule(
    "user.portal-id-format",
    "A portal ID is written login@domain, as the portal shows it.",
    "page",
    "announcement page: Portal ID 0901@35.com",
)
SECRET_PREFIX = _rule(
    "secrets.env-prefix",
    "A password reference names a variable with the allowed prefix (RECONCILER_PW_ unless "
    "set otherwise where apply runs).",
    "tool",
    "design: a config from a pull request cannot turn CI's own secrets into portal passwords",
)
INLINE_PASSWORD = _rule(
    "secrets.inline-password",
    "A password is a reference {env: VAR}, never an inline value.",
    "tool",
    "design: secrets never live in git",
)
USER_NEEDS_DEVICE = _rule(
    "user.devices",
    "A hard-phone user names at least one device.",
    "page",
    "announcement page: Device column",
)

AAD_DUPLICATE = _rule(
    "user.aad-duplicate",
    "An MS AAD account (aad_id) is assigned to one user only.",
    "documented",
    "ipecskb AAD integration: 'Each MS AAD account can ONLY be used once'",
)
AAD_PLATFORM = _rule(
    "user.aad-platform",
    "aad_id needs platform 5.0 or later.",
    "documented",
    "goldstar AAD login: introduced with Cloud Version 5",
)
PORTAL_ID_DUPLICATE = _rule(
    "user.portal-id-duplicate",
    "A portal ID (login) belongs to one user only.",
    "inferred",
    "FACTS 12.10",
)
DEVICE_COMBINATION = _rule(
    "user.device-combination",
    "devices is one client (single client), one desk phone, or a desk phone plus a client "
    "(multi client).",
    "documented",
    "goldstar iPECS2Teams user setup: single client vs multi client",
)
MAC_REQUIRED = _rule(
    "user.mac-required",
    "A multi-client user (desk phone plus client) names its desk phone's MAC address.",
    "documented",
    "goldstar iPECS2Teams user setup: 'device type and MAC address'",
)
MAC_WITHOUT_PHONE = _rule(
    "user.mac-without-phone",
    "A single-client user has a client only, so no MAC address.",
    "documented",
    "goldstar iPECS2Teams user setup",
)
MAC_FORMAT = _rule(
    "user.mac-format", "A MAC address is 12 hex digits.", "inferred", "FACTS 12.7"
)
MAC_DUPLICATE = _rule(
    "user.mac-duplicate", "A MAC address is used by one user only.", "inferred", "FACTS 12.7"
)
HOT_DESK_NO_DEVICE = _rule(
    "hot_desk.no-device",
    "A hot desk user has no device and no MAC of its own.",
    "inferred",
    "FACTS 12.11",
)
PASSWORD_LENGTH = _rule(
    "secrets.password-length",
    "A portal password is 8-15 characters (checked when apply reads it).",
    "documented",
    "berrytelecom, yourcommsgroup password reset",
)
KIND_CHANGE = _rule(
    "user.kind-change",
    "A user's type (hard phone or hot desk) cannot change in place: the plan replaces it "
    "(delete, then create) and warns to download its call recordings first.",
    "documented",
    "goldstar change-from-hard-phone-to-hot-virtual-desk-user",
)
PACKAGE_DOWNGRADE = _rule(
    "licences.package-downgrade",
    "A user's package may only be upgraded (to a package later in tenant.yaml's list).",
    "documented",
    "goldstar user licence change: 'a downgrade is not possible'",
)

# --- shared lines -----------------------------------------------------------
RING_DELAY_STEP = _rule(
    "shared_line.ring-delay",
    "A member's ring delay is 0-30 seconds in steps of 3.",
    "documented",
    "ipecskb shared-line-option-ring-delay",
)
BUTTON_RANGE = _rule(
    "shared_line.button", "A member's button is a positive whole number.", "inferred", "design"
)
MEMBER_UNKNOWN = _rule(
    "membership.unknown-member",
    "Every shared-line member is a user or hot desk user of the tenant.",
    "inferred",
    "FACTS 12.13",
)
MEMBER_CROSS_SITE = _rule(
    "membership.cross-site",
    "A member from another site than its shared line is a multi-site group member.",
    "page",
    "announcement page: Group Member Type 'Single site group members / Multi site group "
    "members'",
)
MEMBER_DUPLICATE = _rule(
    "membership.duplicate-member",
    "A member appears once per shared line.",
    "inferred",
    "FACTS 12.13",
)
HOT_DESK_MEMBER_PLATFORM = _rule(
    "membership.hot-desk-platform",
    "A hot desk user can be a shared-line member only on platform 6.0 or later.",
    "page",
    "announcement page: 'Feature first available: iPECS Cloud version 6.0'",
)
HOT_DESK_MEMBER_LICENSING = _rule(
    "membership.hot-desk-licensing",
    "A hot desk user can be a shared-line member only with iPECS Shared licensing.",
    "page",
    "announcement page: 'iPECS Shared licensing is required'",
)

RING_DELAY_PLATFORM = _rule(
    "shared_line.ring-delay-platform",
    "A ring delay above 0 needs platform 4.0 or later.",
    "documented",
    "ipecskb ring delay: 'Feature first available: iPECS Cloud version 4.0'",
)

# --- licences -----------------------------------------------------------------
SHARED_LINE_LICENCES = _rule(
    "licences.shared-lines",
    "No more shared lines than licences.shared_lines.",
    "page",
    "announcement page: 'Shared Line List (20 Licenses)'",
)
PACKAGE_UNKNOWN = _rule(
    "licences.unknown-package",
    "A user's package is one the tenant owns (listed under packages).",
    "documented",
    "ipecskb add-user-with-change-order",
)
PACKAGE_SEATS = _rule(
    "licences.package-seats",
    "No more users on a package than the seats owned.",
    "inferred",
    "FACTS 12.5",
)

# --- ownership and renumbering ---------------------------------------------------------
DECLARED_AND_IGNORED = _rule(
    "ownership.declared-and-ignored",
    "A resource is not both declared and matched by its site's ignore list.",
    "tool",
    "design: ignore means hands off",
)
OWNERSHIP_CONFLICT = _rule(
    "ownership.conflict",
    "A declared resource needs no number or unique value held by a resource this tool "
    "leaves alone (unmanaged or ignored).",
    "tool",
    "design: unmanaged resources are never changed silently",
)
IGNORED_EDIT = _rule(
    "ownership.ignored-edit",
    "A plan never edits an ignored resource (such as removing a deleted user from an ignored "
    "shared line).",
    "tool",
    "design: ignored means never touched",
)
SITE_SETTINGS_DUPLICATE = _rule(
    "config.site-settings-duplicate",
    "A site's `site:` settings are written in one file only.",
    "tool",
    "design",
)
PREVIOUS_DECLARED = _rule(
    "renumber.previous-declared",
    "previous_extension / previous_number is not also declared as a resource.",
    "tool",
    "design: a number cannot be both kept and renumbered",
)
RENUMBER_TARGET_EXISTS = _rule(
    "renumber.target-exists",
    "A renumber's new number is free, vacated by another renumber, or held by a managed "
    "resource the config no longer keeps (deleted first).",
    "tool",
    "design",
)
RENUMBER_PREVIOUS_UNKNOWN = _rule(
    "renumber.previous-unknown",
    "A previous_extension / previous_number names a resource of the tenant (or the new "
    "number exists already).",
    "tool",
    "design: a mistyped previous number must not silently become a create",
)
RENUMBER_UNMANAGED = _rule(
    "renumber.unmanaged",
    "A renumber never moves a resource made by hand or ignored; adopt it first.",
    "tool",
    "design: ownership",
)
ROTATION_WITHOUT_PASSWORD = _rule(
    "secrets.rotation-without-password",
    "password_rotation comes with a password reference to set.",
    "tool",
    "design",
)

# --- tenant settings ----------------------------------------------------------
FACTS_MISMATCH = _rule(
    "tenant.facts-mismatch",
    "tenant.yaml's platform version, licences and packages agree with what the tenant reports.",
    "tool",
    "design: rules are only as good as the facts they use",
)
FEATURE_CODE_FORMAT = _rule(
    "tenant.feature-code-format",
    "A feature code is 1-5 digits.",
    "documented",
    "ipecskb ACD multi logon: codes such as 551 are set per customer",
)
PLATFORM_VERSION_FORMAT = _rule(
    "tenant.platform-version",
    "platform_version is written as dotted numbers, e.g. \"6.0\".",
    "tool",
    "design",
)
