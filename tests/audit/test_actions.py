"""Action groups (the log's "kind" filter) are defined once, by code prefix."""

from __future__ import annotations

from apps.audit.actions import ACTION_GROUPS, GROUPS_BY_KEY, AuditAction, group_of


def test_every_action_code_is_in_exactly_one_group():
    for code in AuditAction.values:
        assert sum(group.covers(code) for group in ACTION_GROUPS) == 1, code
    assert "connection.revoked_on_platform" in GROUPS_BY_KEY["connections"].codes
    assert "post.scheduled" in GROUPS_BY_KEY["publishing"].codes
    assert "staff.role_changed" in GROUPS_BY_KEY["staff"].codes
    assert "auth.login_failed" in GROUPS_BY_KEY["sign_in"].codes


def test_a_new_code_joins_its_group_by_prefix():
    assert group_of("connection.something_new").key == "connections"
    assert group_of("publish.succeeded").key == "publishing"
    assert group_of("nothing.known") is None
