"""The Lokka agent's tools, in the order ``tools/list`` shows them, and its ``SPEC``."""

from __future__ import annotations

from agents import __version__
from agents.core.runtime import AgentSpec
from agents.core.toolsets import Toolset, check_toolsets
from agents.lokka import apps, azure, directory, passthrough, security, users
from agents.lokka.app import INSTRUCTIONS, connect, registry

__all__ = ["SPEC", "TOOLSETS"]


TOOLSETS = (
    Toolset(
        "core",
        "Read users and groups, service health",
        (
            "list_users",
            "get_user",
            "list_user_groups",
            "list_groups",
            "list_group_members",
            "get_service_health",
        ),
        default=True,
    ),
    Toolset(
        "users",
        "User administration: create, update, disable, passwords, sessions, licenses",
        (
            "list_user_licenses",
            "create_user",
            "update_user",
            "disable_user",
            "enable_user",
            "reset_user_password",
            "revoke_user_sessions",
            "assign_user_licenses",
        ),
    ),
    Toolset(
        "directory",
        "Groups, licenses (SKUs) and directory roles: membership changes",
        (
            "create_group",
            "add_group_member",
            "remove_group_member",
            "list_subscribed_skus",
            "list_directory_roles",
            "list_directory_role_members",
            "add_directory_role_member",
        ),
    ),
    Toolset(
        "devices",
        "Entra and Intune devices, device actions",
        (
            "list_devices",
            "list_managed_devices",
            "run_managed_device_action",
        ),
    ),
    Toolset(
        "apps",
        "App registrations, service principals, expiring credentials",
        (
            "list_applications",
            "list_service_principals",
            "list_expiring_credentials",
        ),
    ),
    Toolset(
        "security",
        "Sign-ins, audits, conditional access, alerts, service messages",
        (
            "list_sign_ins",
            "list_directory_audits",
            "list_conditional_access_policies",
            "list_security_alerts",
            "list_service_messages",
        ),
    ),
    Toolset(
        "sites",
        "SharePoint sites and drives, Teams and channels",
        (
            "search_sites",
            "list_site_drives",
            "list_teams",
            "list_team_channels",
        ),
    ),
    Toolset(
        "azure",
        "Azure subscriptions, resource groups, resources, costs",
        (
            "list_subscriptions",
            "list_resource_groups",
            "list_resources",
            "query_costs",
        ),
    ),
    Toolset(
        "graph",
        "Any Graph request (guarded passthrough)",
        ("graph_request",),
    ),
)

SPEC = AgentSpec(
    name="lokka",
    registry=registry.declare(users, directory, apps, security, azure, passthrough),
    connect=connect,
    version=__version__,
    instructions=INSTRUCTIONS,
    toolsets=TOOLSETS,
)
check_toolsets(SPEC.registry, SPEC.toolsets)
