"""Each rule, broken alone by a YAML fixture, reports its id, place and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.loading.config_loading import load_config
from reconciler.runtime.errors import ConfigError
from schema.rulebook import RULES
from tests.conftest import REPO, TENANT_YAML, WriteTree

USERS = """\
users:
  - extension: "1001"
    name: Alice
    package: Basic
    devices: ["1030"]
  - extension: "1002"
    name: Bob
    package: Basic
    devices: ["1030"]
hot_desk_users:
  - extension: "2001"
    name: Desk
    package: Basic
"""


def problems(write_tree: WriteTree, files: dict[str, str], tenant: str = TENANT_YAML
             ) -> list[str]:
    sites = write_tree(files, tenant=tenant)
    try:
        load_config(sites)
    except ConfigError as error:
        return [str(p).split("/sites/", 1)[-1] for p in error.problems]
    return []


def line(*members: str) -> str:
    listed = "".join(f"      - {m}\n" for m in members)
    return f'shared_lines:\n  - number: "300"\n    members:\n{listed}'


def test_valid_fixture_has_no_problems(write_tree: WriteTree) -> None:
    assert problems(write_tree, {"Main/u.yaml": USERS, "Main/s.yaml": line(
        '{extension: "1001", button: 1, ring_delay: 3}', '{extension: "2001"}')}) == []


def test_numbering_duplicate_across_kinds(write_tree: WriteTree) -> None:
    found = problems(write_tree, {"Main/u.yaml": USERS,
                                  "Main/s.yaml": 'shared_lines:\n  - number: "1002"\n'})
    # Reported on both: whichever a pull request added carries it (files load in name
    # order, so the user in u.yaml is the second use of 1002).
    assert len(found) == 2
    assert found[0].startswith(
        "Main/s.yaml:2:13: number 1002 is also used by user 1002 at ")
    assert found[1].startswith(
        "Main/u.yaml:6:16: number 1002 is already used by shared_line 1002 at ")
    assert found[1].endswith(
        "Main/s.yaml:2:13; a number is used once in the tenant: keep it on one, give the "
        "other a free one [numbering.duplicate]")


def test_numbering_duplicate_across_sites(write_tree: WriteTree) -> None:
    found = problems(write_tree, {"Main/u.yaml": USERS, "Annex/u.yaml":
                                  'hot_desk_users:\n  - {extension: "1001", name: X, '
                                  'package: Basic}\n'})
    assert len(found) == 2
    assert found[0].startswith("Annex/u.yaml:2:17: number 1001 is also used by user 1001 "
                               "at ")
    assert found[1].startswith("Main/u.yaml:2:16: number 1001 is already used by "
                               "hot_desk_user 1001 at ")
    assert "Annex/u.yaml:2:17;" in found[1]


@pytest.mark.parametrize("value", ["1", "123456", "12a", "+123"])
def test_numbering_format(write_tree: WriteTree, value: str) -> None:
    assert problems(write_tree, {"Main/s.yaml": f'shared_lines:\n  - number: "{value}"\n'}) == [
        f"Main/s.yaml:2:13: '{value}' is not a 2-5 digit number; write digits only, and quote "
        'it if it has leading zeros that matter, e.g. "0901" [numbering.format]'
    ]


def test_phone_number_format(write_tree: WriteTree) -> None:
    found = problems(write_tree, {"Main/s.yaml":
                                  'shared_lines:\n  - number: "30"\n    autodial_digit: 12-34\n'})
    assert found == ["Main/s.yaml:3:21: '12-34' is not a phone number; use digits only, "
                     "optionally starting with + [field.phone-number]"]


def test_unknown_member(write_tree: WriteTree) -> None:
    assert problems(write_tree, {"Main/u.yaml": USERS,
                                 "Main/s.yaml": line('{extension: "1999"}')}) == [
        "Main/s.yaml:4:21: shared line 300 lists member 1999, which is not a user or hot desk "
        "user of this tenant; declare that user or remove the member "
        "[membership.unknown-member]"
    ]


def test_duplicate_member(write_tree: WriteTree) -> None:
    assert problems(write_tree, {"Main/u.yaml": USERS, "Main/s.yaml": line(
        '{extension: "1001"}', '{extension: "1001", button: 2}')}) == [
        "Main/s.yaml:5:21: member 1001 is listed twice on shared line 300; keep one entry "
        "[membership.duplicate-member]"
    ]


def test_hot_desk_member_needs_platform_6(write_tree: WriteTree) -> None:
    tenant = TENANT_YAML.replace('"6.0"', '"5.2"')
    assert problems(write_tree, {"Main/u.yaml": USERS, "Main/s.yaml":
                                 line('{extension: "2001"}')}, tenant) == [
        "Main/s.yaml:4:21: hot desk user 2001 can be a member of shared line 300 only on "
        "platform 6.0 or later (tenant.yaml says 5.2); upgrade the platform or remove the "
        "member [membership.hot-desk-platform]"
    ]


def test_hot_desk_member_needs_shared_licensing(write_tree: WriteTree) -> None:
    tenant = TENANT_YAML.replace("shared_licensing: true", "shared_licensing: false")
    assert problems(write_tree, {"Main/u.yaml": USERS, "Main/s.yaml":
                                 line('{extension: "2001"}')}, tenant) == [
        "Main/s.yaml:4:21: hot desk user 2001 can be a member of shared line 300 only with "
        "iPECS Shared licensing; set licences.shared_licensing: true in tenant.yaml once it "
        "is bought, or remove the member [membership.hot-desk-licensing]"
    ]


def test_hard_phone_members_need_no_shared_licensing(write_tree: WriteTree) -> None:
    tenant = TENANT_YAML.replace("shared_licensing: true", "shared_licensing: false")
    assert problems(write_tree, {"Main/u.yaml": USERS,
                                 "Main/s.yaml": line('{extension: "1001"}')}, tenant) == []


@pytest.mark.parametrize("delay", [1, 31, -3, 33])
def test_ring_delay_steps(write_tree: WriteTree, delay: int) -> None:
    found = problems(write_tree, {"Main/u.yaml": USERS, "Main/s.yaml":
                                  line(f'{{extension: "1001", ring_delay: {delay}}}')})
    assert found == [
        f"Main/s.yaml:4:41: ring_delay {delay} is not allowed; use 0 to 30 seconds in steps "
        "of 3 (0, 3, 6, ... 30) [shared_line.ring-delay]"
    ]


def test_button_positive(write_tree: WriteTree) -> None:
    found = problems(write_tree, {"Main/u.yaml": USERS,
                                  "Main/s.yaml": line('{extension: "1001", button: 0}')})
    assert found == ["Main/s.yaml:4:37: button 0 is not a button; number buttons from 1 to 999 "
                     "[shared_line.button]"]


def test_shared_line_licences(write_tree: WriteTree) -> None:
    tenant = TENANT_YAML.replace("shared_lines: 5", "shared_lines: 2")
    found = problems(write_tree, {"Main/s.yaml": 'shared_lines:\n  - number: "30"\n'
                                  '  - number: "31"\n  - number: "32"\n'}, tenant)
    assert found == [
        "Main/s.yaml:4:13: 3 shared lines are declared but the tenant has 2 shared-line "
        "licences; remove 1 or raise licences.shared_lines in tenant.yaml after buying more "
        "[licences.shared-lines]"
    ]


def test_unknown_package(write_tree: WriteTree) -> None:
    found = problems(write_tree, {"Main/u.yaml": USERS.replace(
        "name: Bob\n    package: Basic", "name: Bob\n    package: Gold")})
    assert found == [
        "Main/u.yaml:8:14: package 'Gold' is not one the tenant owns (Basic, Premium); use "
        "one of them or add it under packages in tenant.yaml [licences.unknown-package]"
    ]


def test_package_seats(write_tree: WriteTree) -> None:
    tenant = TENANT_YAML.replace("Basic: 10", "Basic: 2")
    found = problems(write_tree, {"Main/u.yaml": USERS}, tenant)
    assert found == [
        "Main/u.yaml:13:14: 3 users are on package 'Basic' but the tenant owns 2 seats; move "
        "users to another package or order more seats and update tenant.yaml "
        "[licences.package-seats]"
    ]


def test_unknown_field_suggests_the_right_one(write_tree: WriteTree) -> None:
    found = problems(write_tree, {"Main/u.yaml": USERS.replace("name: Bob", "nmae: Bob")})
    # One mistake, one message: no "name is missing" beside the misspelling.
    assert found == [
        "Main/u.yaml:7:5: unknown field 'nmae'; did you mean 'name'? [schema.unknown-field]",
    ]


def test_unknown_top_level_list(write_tree: WriteTree) -> None:
    found = problems(write_tree, {"Main/u.yaml": "hotdesk_users: []\n"})
    assert found == ["Main/u.yaml:1:1: unknown field 'hotdesk_users'; did you mean "
                     "'hot_desk_users'? [schema.unknown-field]"]


def test_wrong_type(write_tree: WriteTree) -> None:
    first = 'devices: ["1030"]\n  - extension: "1002"'
    found = problems(write_tree, {"Main/u.yaml": USERS.replace(
        first, 'devices: "1030"\n  - extension: "1002"')})
    assert found == ["Main/u.yaml:5:14: devices: Input should be a valid list [schema.type]"]


def test_user_without_devices(write_tree: WriteTree) -> None:
    first = 'devices: ["1030"]\n  - extension: "1002"'
    found = problems(write_tree, {"Main/u.yaml": USERS.replace(
        first, 'devices: []\n  - extension: "1002"')})
    assert found == ["Main/u.yaml:5:14: a user needs at least one device; a user without a "
                     "device of its own belongs under hot_desk_users [user.devices]"]


def test_empty_name(write_tree: WriteTree) -> None:
    found = problems(write_tree, {"Main/u.yaml": USERS.replace("name: Alice", 'name: "  "')})
    assert found == ["Main/u.yaml:3:11: name is empty; give the name shown on the phone "
                     "[user.name]"]


def test_email_and_portal_id_format(write_tree: WriteTree) -> None:
    found = problems(write_tree, {"Main/u.yaml": USERS.replace(
        "name: Alice", "name: Alice\n    email: alice-at-example\n    portal_id: alice")})
    assert found == [
        "Main/u.yaml:4:12: 'alice-at-example' is not an e-mail address; write it as "
        "name@example.com or leave it out [user.email-format]",
        "Main/u.yaml:5:16: portal ID 'alice' is not of the form login@domain (the portal shows "
        "e.g. 0901@35.com) [user.portal-id-format]",
    ]


def test_inline_password_is_refused_without_echoing_it(write_tree: WriteTree) -> None:
    found = problems(write_tree, {"Main/u.yaml": USERS.replace(
        "name: Alice", "name: Alice\n    password: Sup3rSecret!")})
    assert found == [
        "Main/u.yaml:4:15: password is written inline; never commit a password, write "
        "`password: {env: VARIABLE_NAME}` and export the variable where apply runs "
        "[secrets.inline-password]"
    ]
    assert "Sup3rSecret" not in "".join(found)


def test_password_reference_is_accepted(write_tree: WriteTree) -> None:
    assert problems(write_tree, {"Main/u.yaml": USERS.replace(
        "name: Alice", "name: Alice\n    password: {env: RECONCILER_PW_ALICE}")}) == []


def test_platform_version_format(write_tree: WriteTree) -> None:
    found = problems(write_tree, {}, TENANT_YAML.replace('"6.0"', "six"))
    assert found == ["tenant.yaml:2:19: platform_version 'six' is not a dotted version; write it "
                     'quoted, e.g. "6.0" [tenant.platform-version]']


def test_every_rule_is_in_the_docs_table() -> None:
    table = (REPO / "docs" / "rules.md").read_text()
    missing = [rule for rule in RULES if f"| `{rule}` |" not in table]
    assert missing == []


def test_problems_are_sorted_by_file_and_line(write_tree: WriteTree, tmp_path: Path) -> None:
    found = problems(write_tree, {
        "B/u.yaml": 'shared_lines:\n  - number: "1"\n',
        "A/u.yaml": 'shared_lines:\n  - number: "2"\n  - number: "3"\n',
    })
    assert [f.split(":", 2)[:2] for f in found] == [["A/u.yaml", "2"], ["A/u.yaml", "3"],
                                                   ["B/u.yaml", "2"]]


def _with(field_lines: str, name: str = "Alice") -> str:
    return USERS.replace(f"name: {name}", f"name: {name}\n{field_lines}")


def test_prefix_collision(write_tree: WriteTree) -> None:
    found = problems(write_tree, {"Main/u.yaml": USERS,
                                  "Main/s.yaml": 'shared_lines:\n  - number: "10"\n'})
    assert len(found) == 2
    assert found[0].startswith("Main/u.yaml:2:16: number 1001 starts with shared_line 10 (")
    assert found[0].endswith("Main/s.yaml:2:13), so it can never be dialled; renumber one of "
                             "them [numbering.prefix-collision]")
    assert found[1].startswith("Main/u.yaml:6:16: number 1002 starts with shared_line 10")


def test_feature_code_collision(write_tree: WriteTree) -> None:
    tenant = TENANT_YAML + 'feature_codes:\n  acd_agent_all_group_log_off: "200"\n'
    assert problems(write_tree, {"Main/u.yaml": USERS}, tenant) == [
        "Main/u.yaml:11:16: number 2001 collides with feature code acd_agent_all_group_log_off "
        "(200); a number may not equal, start or be started by a feature code, renumber it "
        "[numbering.feature-code-collision]"
    ]


def test_feature_code_format(write_tree: WriteTree) -> None:
    tenant = TENANT_YAML + "feature_codes:\n  park: '*55'\n"
    assert problems(write_tree, {}, tenant) == [
        "tenant.yaml:10:9: feature code '*55' is not 1-5 digits; copy it from the portal, "
        "quoted [tenant.feature-code-format]"
    ]


def test_direct_dial_duplicate(write_tree: WriteTree) -> None:
    found = problems(write_tree, {
        "Main/u.yaml": _with('    direct_dial_number: "024801028"'),
        "Main/s.yaml": 'shared_lines:\n  - number: "300"\n    direct_dial_number: "024801028"\n',
    })
    assert len(found) == 1
    assert found[0].startswith("Main/u.yaml:4:25: direct dial number 024801028 already rings "
                               "shared_line 300 (")
    assert found[0].endswith("[numbering.direct-dial-duplicate]")


def test_aad_duplicate_and_platform(write_tree: WriteTree) -> None:
    users = _with("    aad_id: boss@example.com").replace(
        "name: Bob", "name: Bob\n    aad_id: boss@example.com")
    found = problems(write_tree, {"Main/u.yaml": users})
    assert len(found) == 1
    assert found[0].startswith("Main/u.yaml:9:13: MS AAD account boss@example.com is already "
                               "used by user 1001 (")
    assert found[0].endswith("each MS AAD account belongs to one user [user.aad-duplicate]")
    old = TENANT_YAML.replace('"6.0"', '"4.2"')
    assert problems(write_tree, {"Main/u.yaml": _with("    aad_id: a@example.com")}, old) == [
        "Main/u.yaml:4:13: aad_id needs platform 5.0 or later (tenant.yaml says 4.2); remove it "
        "until the tenant is upgraded [user.aad-platform]"
    ]


def test_portal_id_duplicate(write_tree: WriteTree) -> None:
    users = _with("    portal_id: a@35.com").replace("name: Desk", "name: Desk\n    "
                                                        "portal_id: a@35.com")
    found = problems(write_tree, {"Main/u.yaml": users})
    assert len(found) == 1
    assert found[0].startswith("Main/u.yaml:14:16: portal ID a@35.com is already used by user "
                               "1001")


def test_device_combination(write_tree: WriteTree) -> None:
    found = problems(write_tree, {"Main/u.yaml": USERS.replace(
        'devices: ["1030"]\n  - extension: "1002"', 'devices: ["1030", "IP-DECT 110"]\n  - '
        'extension: "1002"')})
    assert found == [
        "Main/u.yaml:5:14: user 1001 lists 2 desk phone(s) and 0 client(s); a user has one "
        "client, one desk phone, or one desk phone plus one client (known clients: "
        "MS Teams Connect, "
        "UCE, iPECS One, iPECS One Premium, iPECS One Standard) "
        "[user.device-combination]"
    ]


def test_multi_client_needs_a_mac(write_tree: WriteTree) -> None:
    users = USERS.replace('devices: ["1030"]\n  - extension: "1002"',
                          'devices: ["1030", iPECS One Premium]\n  - extension: "1002"')
    assert problems(write_tree, {"Main/u.yaml": users}) == [
        "Main/u.yaml:5:14: user 1001 is multi client (1030 plus iPECS One Premium) and needs "
        "the 1030's MAC address; add mac: <12 hex digits> [user.mac-required]"
    ]
    with_mac = users.replace("name: Alice", 'name: Alice\n    mac: "00:1a:2b:3c:4d:5e"')
    assert problems(write_tree, {"Main/u.yaml": with_mac}) == []


def test_single_client_has_no_mac(write_tree: WriteTree) -> None:
    users = USERS.replace('devices: ["1030"]\n  - extension: "1002"',
                          'devices: [MS Teams Connect]\n  - extension: "1002"')
    users = users.replace("name: Alice", 'name: Alice\n    mac: "001A2B3C4D5E"')
    assert problems(write_tree, {"Main/u.yaml": users}) == [
        "Main/u.yaml:4:10: user 1001 is single client (MS Teams Connect) and has no desk phone "
        "for this MAC address; remove mac or add the desk phone to devices "
        "[user.mac-without-phone]"
    ]


def test_mac_format_and_duplicate(write_tree: WriteTree) -> None:
    assert problems(write_tree, {"Main/u.yaml": _with("    mac: 00-1A-2B")}) == [
        "Main/u.yaml:4:10: '00-1A-2B' is not a MAC address; write its 12 hex digits, e.g. "
        "001A2B3C4D5E [user.mac-format]"
    ]
    # The same MAC in two spellings is still the same phone.
    users = _with("    mac: 001a2b3c4d5e").replace("name: Bob", "name: Bob\n    mac: "
                                                     "00:1A:2B:3C:4D:5E")
    found = problems(write_tree, {"Main/u.yaml": users})
    assert len(found) == 1
    assert found[0].startswith("Main/u.yaml:9:10: MAC address 001A2B3C4D5E is already used")


def test_hot_desk_user_has_no_device(write_tree: WriteTree) -> None:
    users = USERS.replace("name: Desk",
                          'name: Desk\n    devices: ["1030"]\n    mac: "001A2B3C4D5E"')
    assert problems(write_tree, {"Main/u.yaml": users}) == [
        f"Main/u.yaml:{line_no}:{col}: a hot desk user has no device or MAC of its own (it logs "
        "in at any hot desk phone); remove this field, or declare the user under users "
        "[hot_desk.no-device]"
        for line_no, col in ((13, 14), (14, 10))
    ]


def test_ring_delay_needs_platform_4(write_tree: WriteTree) -> None:
    old = TENANT_YAML.replace('"6.0"', '"3.0"').replace("shared_licensing: true",
                                                       "shared_licensing: false")
    assert problems(write_tree, {"Main/u.yaml": USERS, "Main/s.yaml": line(
        '{extension: "1001", ring_delay: 6}', '{extension: "1002", ring_delay: 0}')}, old) == [
        "Main/s.yaml:4:41: ring_delay needs platform 4.0 or later (tenant.yaml says 3.0); use 0 "
        "until the tenant is upgraded [shared_line.ring-delay-platform]"
    ]


def test_every_rule_has_a_test_naming_it() -> None:
    tests = "".join(path.read_text() for path in (REPO / "tests").glob("test_*.py"))
    untested = [rule for rule in RULES if f"[{rule}]" not in tests and f'"{rule}"' not in tests]
    assert untested == []


def test_cross_site_member_must_be_multi_site(write_tree: WriteTree) -> None:
    annex = 'hot_desk_users:\n  - {extension: "2500", name: Far, package: Basic}\n'
    found = problems(write_tree, {"Main/u.yaml": USERS, "Annex/u.yaml": annex,
                                  "Main/s.yaml": line('{extension: "2500"}')})
    assert len(found) == 1
    assert found[0].startswith(
        "Main/s.yaml:4:21: hot_desk_user 2500 is in site Annex but shared line 300 is in site "
        "Main; set group_member_type: multi_site on the user (")
    assert found[0].endswith("or choose a member of site Main [membership.cross-site]")
    multi = annex.replace("package: Basic", "package: Basic, group_member_type: multi_site")
    assert problems(write_tree, {"Main/u.yaml": USERS, "Annex/u.yaml": multi,
                                 "Main/s.yaml": line('{extension: "2500"}')}) == []


def test_every_kind_has_a_complete_description() -> None:
    from schema.kinds import KINDS, missing_descriptions
    from schema.state import Kind

    assert missing_descriptions() == []
    assert set(KINDS) == set(Kind)
