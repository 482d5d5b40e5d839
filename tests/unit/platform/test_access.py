"""The role → actions table of core.platform.access (no database)."""

from __future__ import annotations

import pytest

from core.platform import access
from core.platform.errors import InvalidInputError


@pytest.mark.parametrize("action", ["read", "predict_one", "download_report"])
def test_every_role_may_look_predict_one_row_and_download(action):
    assert all(access.allows(role, action) for role in access.ROLES)


@pytest.mark.parametrize("action", ["import", "train", "promote", "rollback", "delete_dataset", "delete_model"])
def test_writes_need_a_data_scientist(action):
    assert not access.allows("viewer", action)
    assert access.allows("data_scientist", action) and access.allows("owner", action)
    assert access.roles_allowed(action) == ["data_scientist", "owner"]


@pytest.mark.parametrize("action", ["members", "delete_project"])
def test_members_and_deleting_the_project_are_the_owners(action):
    assert access.roles_allowed(action) == ["owner"]
    assert not access.allows("data_scientist", action) and not access.allows("viewer", action)


def test_the_owner_may_do_everything_and_a_non_member_nothing():
    assert access.ALLOWED["owner"] == access.ACTIONS
    assert access.ALLOWED["viewer"] < access.ALLOWED["data_scientist"] < access.ALLOWED["owner"]
    assert not any(access.allows(None, action) for action in access.ACTIONS)


def test_an_unknown_action_is_a_clear_error():
    with pytest.raises(InvalidInputError, match="Unknown action 'fly'"):
        access.roles_allowed("fly")


@pytest.mark.parametrize("email", ["", "nobody", "@example.org", "a b@example.org"])
def test_emails_are_checked(email):
    with pytest.raises(InvalidInputError, match="is not an email address"):
        access.normalize_email(email)


def test_local_owner_is_the_single_user():
    assert access.LOCAL_OWNER.is_local and str(access.LOCAL_OWNER) == "the local owner"
    assert str(access.Actor("a@x.org")) == "a@x.org"
