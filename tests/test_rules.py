"""Each rule, broken alone by a YAML fixture, reports its id, place and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config_loading import load_config
from reconciler.errors import ConfigError
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
    # Files load in name order, so the user in u.yaml is the second use of 1002.
    assert len(found) == 1
    assert found[0].startswith(
        "Main/u.yaml:6:16: number 1002 is already used by shared_line 1002 at ")
    assert found[0].endswith(
        "Main/s.yaml:2:13; a number is used once in the tenant, pick a free one "
        "[numbering.duplicate]")


def test_numbering_duplicate_across_sites(write_tree: WriteTree) -> None:
    found = problems(write_tree, {"Main/u.yaml": USERS, "Annex/u.yaml":
                                  'hot_desk_users:\n  - {extension: "1001", name: X, '
                                  'package: Basic}\n'})
    assert len(found) == 1
    assert found[0].startswith("Main/u.yaml:2:16: number 1001 is already used by "
                               "hot_desk_user 1001 at ")
    assert "Annex/u.yaml:2:17;" in found[0]


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
    assert found == ["Main/s.yaml:4:37: button 0 is not a button; number buttons from 1 "
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
    assert found == [
        "Main/u.yaml:6:5: required field 'name' is missing; add it [schema.missing-field]",
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
        "name: Alice", "name: Alice\n    password: {env: ALICE_PW}")}) == []


def test_platform_version_format(write_tree: WriteTree) -> None:
    found = problems(write_tree, {}, TENANT_YAML.replace('"6.0"', "six"))
    assert found == ["tenant.yaml:2:19: platform_version 'six' is not a dotted version; write it "
                     'quoted, e.g. "6.0" [tenant.platform-version]']


def test_every_rule_is_in_the_readme_table() -> None:
    readme = (REPO / "README.md").read_text()
    missing = [rule for rule in RULES if f"| `{rule}` |" not in readme]
    assert missing == []


def test_problems_are_sorted_by_file_and_line(write_tree: WriteTree, tmp_path: Path) -> None:
    found = problems(write_tree, {
        "B/u.yaml": 'shared_lines:\n  - number: "1"\n',
        "A/u.yaml": 'shared_lines:\n  - number: "2"\n  - number: "3"\n',
    })
    assert [f.split(":", 2)[:2] for f in found] == [["A/u.yaml", "2"], ["A/u.yaml", "3"],
                                                   ["B/u.yaml", "2"]]
