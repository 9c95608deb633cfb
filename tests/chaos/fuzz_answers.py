"""Spoiled vendor answers for the response fuzz (hypothesis), and one valid call per tool of
each agent against its seeded fake, so that the spoiled answer reaches the tool's own code.

A valid call is a function of the fake: tools that use an object up (a delete) get a fresh
one each time, made in the fake's state directly, never through the proxy.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tests.fakes.arm import SUB_A
from tests.fakes.fizzy import FakeFizzy
from tests.fakes.fizzy.state import Step, new_id
from tests.fakes.graph_data import ADA, E5, HELPDESK_ROLE, MDM, SALES, SITE, TEAM
from tests.fakes.mangle import OPS, Mutation

__all__ = ["Args", "fizzy_calls", "lokka_calls", "mutations", "notion_calls"]

Args = Callable[[], dict[str, Any]]

ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, -1, 2**63, 1.5, float("1e308")]),
    st.sampled_from(["", "x", "null", "0", "\u202e", "../../etc/passwd", "<html>"]),
    st.just([]),
    st.just({}),
    st.just([None]),
    st.just({"id": None}),
    st.just({"object": "error"}),
)
NOT_JSON = st.sampled_from(
    [
        b"<html><body>502 Bad Gateway</body></html>",
        b"",
        b"{",
        b'{"results": [',
        b"\xff\xfe\x00garbage",
        b"null",
    ]
)


def mutations(answers: int) -> st.SearchStrategy[Mutation]:
    """One spoiled answer among the first ``answers`` a call gets."""
    return st.builds(
        lambda op, pick, odd, huge, raw, index: Mutation(
            op,
            pick,
            raw if op == "not_json" else "A" * huge if op == "huge" else odd,
            index,
        ),
        st.sampled_from(OPS),
        st.integers(0, 10_000),
        ODD,
        st.sampled_from([100_000, 1_000_000]),
        NOT_JSON,
        st.integers(0, max(answers - 1, 0)),
    )


def notion_calls(root: str, other: str, ds: str, doc: Path) -> dict[str, Args]:
    """A valid call of every Notion tool against pages ``root`` and ``other`` and data source
    ``ds``; ``doc`` is a Markdown file inside NOTION_IMPORT_ROOTS."""
    return {
        "search_workspace": lambda: {"query": "Fuzz"},
        "list_pages": lambda: {"parent_page_id": root},
        "get_page": lambda: {"page_id": root},
        "create_page": lambda: {"title": "Fuzz", "parent_page_id": root, "markdown": "# A\n\n- b"},
        "update_page": lambda: {"page_id": other, "mode": "append", "markdown": "more"},
        "add_block": lambda: {"page_id": root, "markdown": "a *b*"},
        "create_database": lambda: {"title": "Fuzz db", "parent_page_id": root},
        "add_database_entry": lambda: {"database_id": ds, "values": {"Name": "row", "Qty": 2}},
        "query_database": lambda: {"database_id": ds},
        "parse_document": lambda: {"path": str(doc), "parent_page_id": root},
        "consolidate_pages": lambda: {
            "target_title": "Digest",
            "page_ids": [root, other],
            "target_parent_page_id": root,
        },
        "agent_info": dict,
    }


def fizzy_calls(fake: FakeFizzy) -> dict[str, Args]:
    """A valid call of every Fizzy tool, as David (the owner) on the Writebook board."""
    acct, david, board = fake.account, fake.david, fake.board
    card = acct.add_card(board, "Fuzz card", david)

    def fresh_card() -> int:
        return acct.add_card(board, "Fuzz card", david).number

    def step() -> str:
        s = Step(new_id(), "a step")
        card.steps.append(s)
        return s.id

    def notification() -> str:
        acct.add_notification(david, card, "Fuzz note")
        return next(reversed(acct.notifications))

    return {
        "get_identity": dict,
        "list_projects": dict,
        "get_project": lambda: {"project_id": board.id},
        "create_project": lambda: {"name": "Fuzz project"},
        "update_project": lambda: {"project_id": board.id, "name": "Writebook"},
        "list_columns": lambda: {"project_id": board.id},
        "list_project_members": lambda: {"project_id": board.id},
        "list_members": dict,
        "get_member": lambda: {"user_id": fake.kevin.id},
        "list_tasks": dict,
        "search_tasks": lambda: {"query": "Fuzz"},
        "get_task": lambda: {"task_number": card.number},
        "create_task": lambda: {"project_id": board.id, "title": "Fuzz task"},
        "update_task": lambda: {"task_number": card.number, "title": "Fuzz card"},
        "close_task": lambda: {"task_number": fresh_card()},
        "reopen_task": lambda: {"task_number": card.number},
        "postpone_task": lambda: {"task_number": fresh_card()},
        "move_task": lambda: {"task_number": card.number, "column_id": fake.columns[0].id},
        "move_task_to_project": lambda: {"task_number": fresh_card(), "project_id": board.id},
        "assign_task": lambda: {"task_number": fresh_card(), "user_id": fake.kevin.id},
        "tag_task": lambda: {"task_number": fresh_card(), "tag": "fuzz"},
        "list_comments": lambda: {"task_number": card.number},
        "add_comment": lambda: {"task_number": card.number, "body": "hello"},
        "update_comment": lambda: {
            "task_number": card.number,
            "comment_id": acct.add_comment(card, "c", david).id,
            "body": "edited",
        },
        "delete_comment": lambda: {
            "task_number": card.number,
            "comment_id": acct.add_comment(card, "c", david).id,
        },
        "list_steps": lambda: {"task_number": card.number},
        "add_step": lambda: {"task_number": card.number, "content": "a step"},
        "update_step": lambda: {"task_number": card.number, "step_id": step(), "completed": True},
        "delete_step": lambda: {"task_number": card.number, "step_id": step()},
        "list_tags": dict,
        "list_notifications": dict,
        "mark_notification_read": lambda: {"notification_id": notification()},
        "mark_all_notifications_read": dict,
        "list_activity": dict,
        "agent_info": dict,
    }


def lokka_calls() -> dict[str, Args]:
    """A valid call of every Lokka tool against the seeded tenant; writes confirmed."""
    n = iter(range(10**9))
    user = "ada@contoso.com"
    return {
        "list_users": lambda: {"limit": 3},
        "get_user": lambda: {"user": user, "include_manager": True},
        "list_user_licenses": lambda: {"user": user},
        "list_user_groups": lambda: {"user": user},
        "create_user": lambda: {
            "display_name": "Fuzz",
            "user_principal_name": f"fuzz{next(n)}@contoso.com",
            "password": "Fuzz-Passw0rd!x9",
            "confirm": True,
        },
        "update_user": lambda: {"user": user, "job_title": "Fuzzer", "confirm": True},
        "disable_user": lambda: {"user": "bob@contoso.com", "confirm": True},
        "enable_user": lambda: {"user": "bob@contoso.com", "confirm": True},
        "reset_user_password": lambda: {
            "user": user,
            "password": "Fuzz-Passw0rd!x9",
            "confirm": True,
        },
        "revoke_user_sessions": lambda: {"user": user, "confirm": True},
        "assign_user_licenses": lambda: {"user": user, "add_sku_ids": [E5], "confirm": True},
        "list_groups": lambda: {"limit": 3},
        "list_group_members": lambda: {"group": SALES},
        "create_group": lambda: {
            "display_name": "Fuzz",
            "mail_nickname": f"fuzz{next(n)}",
            "confirm": True,
        },
        "add_group_member": lambda: {"group": TEAM, "member": "bob@contoso.com"},
        "remove_group_member": lambda: {"group": SALES, "member": ADA},
        "list_subscribed_skus": dict,
        "list_directory_roles": dict,
        "list_directory_role_members": lambda: {"role": HELPDESK_ROLE},
        "add_directory_role_member": lambda: {"role": HELPDESK_ROLE, "member": user},
        "list_devices": lambda: {"limit": 3},
        "list_managed_devices": lambda: {"limit": 3},
        "run_managed_device_action": lambda: {
            "device": MDM,
            "action": "syncDevice",
            "confirm": True,
        },
        "list_applications": lambda: {"limit": 3},
        "list_service_principals": lambda: {"limit": 3},
        "list_expiring_credentials": dict,
        "list_sign_ins": lambda: {"limit": 3},
        "list_directory_audits": lambda: {"limit": 3},
        "list_conditional_access_policies": dict,
        "list_security_alerts": lambda: {"limit": 3},
        "get_service_health": dict,
        "list_service_messages": lambda: {"limit": 3},
        "search_sites": lambda: {"query": "a"},
        "list_site_drives": lambda: {"site": SITE},
        "list_teams": dict,
        "list_team_channels": lambda: {"team": TEAM},
        "list_subscriptions": dict,
        "list_resource_groups": lambda: {"subscription": SUB_A},
        "list_resources": lambda: {"subscription": SUB_A},
        "query_costs": lambda: {"scope": f"/subscriptions/{SUB_A}"},
        "graph_request": lambda: {"path": f"/users/{ADA}/memberOf"},
        "agent_info": dict,
    }
