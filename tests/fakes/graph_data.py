"""A small tenant for the Graph fake: users, groups, roles, devices, apps, logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

ADA = "11111111-0000-0000-0000-000000000001"
BOB = "11111111-0000-0000-0000-000000000002"
CY = "11111111-0000-0000-0000-000000000003"
GLASS = "11111111-0000-0000-0000-0000000000bb"
SALES = "22222222-0000-0000-0000-000000000001"
ADMINS = "22222222-0000-0000-0000-000000000002"
TEAM = "22222222-0000-0000-0000-000000000003"
GA_TEMPLATE = "62e90394-69f5-4237-9190-012177145e10"
GA_ROLE = "33333333-0000-0000-0000-000000000001"
HELPDESK_TEMPLATE = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
HELPDESK_ROLE = "33333333-0000-0000-0000-000000000002"
E3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"
E5 = "c7df2760-2c81-4ef7-b578-5b5392b571df"
MDM = "44444444-0000-0000-0000-000000000001"
APP = "55555555-0000-0000-0000-000000000001"
SITE = "contoso.sharepoint.com,66666666-0000-0000-0000-000000000001,7"


def _in(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _user(uid: str, name: str, upn: str, **extra: Any) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.user",
        "id": uid,
        "displayName": name,
        "userPrincipalName": upn,
        "mail": upn,
        "accountEnabled": True,
        "jobTitle": None,
        "department": None,
        "usageLocation": "US",
        "createdDateTime": "2025-01-01T00:00:00Z",
        **extra,
    }


def _group(gid: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.group",
        "id": gid,
        "displayName": name,
        "mail": None,
        "mailEnabled": False,
        "securityEnabled": True,
        "groupTypes": [],
        "mailNickname": name.lower(),
        "membershipRule": None,
        "resourceProvisioningOptions": [],
        **extra,
    }


def seed() -> dict[str, Any]:
    """Fresh collections keyed by their Graph path, plus relations."""
    users = [
        _user(ADA, "Ada Lovelace", "ada@contoso.com", department="Engineering"),
        _user(BOB, "Bob Builder", "bob@contoso.com", usageLocation=None),
        _user(CY, "Cy Young", "cy@contoso.com", accountEnabled=False),
        _user(GLASS, "Break Glass", "breakglass1@contoso.com"),
    ]
    groups = [
        _group(SALES, "Sales"),
        _group(ADMINS, "Tenant Admins"),
        _group(
            TEAM,
            "Project X",
            groupTypes=["Unified"],
            mailEnabled=True,
            securityEnabled=False,
            mail="projectx@contoso.com",
            resourceProvisioningOptions=["Team"],
        ),
    ]
    return {
        "users": users,
        "groups": groups,
        "directoryRoles": [
            {
                "@odata.type": "#microsoft.graph.directoryRole",
                "id": GA_ROLE,
                "displayName": "Global Administrator",
                "roleTemplateId": GA_TEMPLATE,
                "description": "Can manage all aspects",
            },
            {
                "@odata.type": "#microsoft.graph.directoryRole",
                "id": HELPDESK_ROLE,
                "displayName": "Helpdesk Administrator",
                "roleTemplateId": HELPDESK_TEMPLATE,
                "description": "Can reset passwords",
            },
        ],
        "subscribedSkus": [
            {
                "skuId": E3,
                "skuPartNumber": "ENTERPRISEPACK",
                "capabilityStatus": "Enabled",
                "consumedUnits": 8,
                "prepaidUnits": {"enabled": 10, "suspended": 0, "warning": 0},
                "appliesTo": "User",
            },
            {
                "skuId": E5,
                "skuPartNumber": "SPE_E5",
                "capabilityStatus": "Enabled",
                "consumedUnits": 5,
                "prepaidUnits": {"enabled": 5, "suspended": 0, "warning": 0},
                "appliesTo": "User",
            },
        ],
        "devices": [
            {
                "@odata.type": "#microsoft.graph.device",
                "id": "77777777-0000-0000-0000-000000000001",
                "deviceId": "d1",
                "displayName": "ADA-LAPTOP",
                "operatingSystem": "Windows",
                "operatingSystemVersion": "10.0.22631",
                "trustType": "AzureAd",
                "accountEnabled": True,
                "approximateLastSignInDateTime": "2026-11-20T10:00:00Z",
            },
            {
                "@odata.type": "#microsoft.graph.device",
                "id": "77777777-0000-0000-0000-000000000002",
                "deviceId": "d2",
                "displayName": "BOB-MAC",
                "operatingSystem": "MacMDM",
                "operatingSystemVersion": "15.1",
                "trustType": "Workplace",
                "accountEnabled": True,
                "approximateLastSignInDateTime": "2026-10-01T10:00:00Z",
            },
        ],
        "deviceManagement/managedDevices": [
            {
                "id": MDM,
                "deviceName": "ADA-LAPTOP",
                "userPrincipalName": "ada@contoso.com",
                "operatingSystem": "Windows",
                "osVersion": "10.0.22631",
                "complianceState": "compliant",
                "managementState": "managed",
                "lastSyncDateTime": "2026-11-24T08:00:00Z",
            },
            {
                "id": "44444444-0000-0000-0000-000000000002",
                "deviceName": "BOB-PHONE",
                "userPrincipalName": "bob@contoso.com",
                "operatingSystem": "iOS",
                "osVersion": "18.1",
                "complianceState": "noncompliant",
                "managementState": "managed",
                "lastSyncDateTime": "2026-11-01T08:00:00Z",
            },
        ],
        "applications": [
            {
                "@odata.type": "#microsoft.graph.application",
                "id": APP,
                "appId": "app-1",
                "displayName": "Payroll Sync",
                "signInAudience": "AzureADMyOrg",
                "createdDateTime": "2024-01-01T00:00:00Z",
                "passwordCredentials": [
                    {"keyId": "k1", "displayName": "ci", "endDateTime": _in(10)}
                ],
                "keyCredentials": [
                    {"keyId": "k2", "type": "AsymmetricX509Cert", "endDateTime": _in(200)}
                ],
            },
            {
                "@odata.type": "#microsoft.graph.application",
                "id": "55555555-0000-0000-0000-000000000002",
                "appId": "app-2",
                "displayName": "Old Portal",
                "signInAudience": "AzureADMyOrg",
                "createdDateTime": "2020-01-01T00:00:00Z",
                "passwordCredentials": [
                    {"keyId": "k3", "displayName": "x", "endDateTime": _in(-3)}
                ],
                "keyCredentials": [],
            },
        ],
        "servicePrincipals": [
            {
                "@odata.type": "#microsoft.graph.servicePrincipal",
                "id": "88888888-0000-0000-0000-000000000001",
                "appId": "app-1",
                "displayName": "Payroll Sync",
                "servicePrincipalType": "Application",
                "accountEnabled": True,
                "appOwnerOrganizationId": "tenant",
                "passwordCredentials": [],
                "keyCredentials": [],
            },
        ],
        "auditLogs/signIns": [
            {
                "id": f"s{i}",
                "createdDateTime": f"2026-11-2{i}T09:00:00Z",
                "userPrincipalName": "ada@contoso.com" if i % 2 else "bob@contoso.com",
                "appDisplayName": "Office 365",
                "ipAddress": "203.0.113.9",
                "status": {"errorCode": 0 if i < 3 else 50126, "failureReason": None},
            }
            for i in range(1, 6)
        ],
        "auditLogs/directoryAudits": [
            {
                "id": "a1",
                "category": "UserManagement",
                "activityDisplayName": "Update user",
                "activityDateTime": "2026-11-23T10:00:00Z",
                "result": "success",
                "initiatedBy": {"user": {"userPrincipalName": "ada@contoso.com"}},
            },
            {
                "id": "a2",
                "category": "RoleManagement",
                "activityDisplayName": "Add member to role",
                "activityDateTime": "2026-11-24T10:00:00Z",
                "result": "success",
                "initiatedBy": {"user": {"userPrincipalName": "bob@contoso.com"}},
            },
        ],
        "identity/conditionalAccess/policies": [
            {
                "id": "ca1",
                "displayName": "Require MFA for admins",
                "state": "enabled",
                "modifiedDateTime": "2026-01-01T00:00:00Z",
                "grantControls": {"builtInControls": ["mfa"]},
                "conditions": {
                    "users": {"includeUsers": ["All"], "excludeUsers": [GLASS], "excludeGroups": []}
                },
            },
            {
                "id": "ca2",
                "displayName": "Block legacy auth",
                "state": "enabled",
                "modifiedDateTime": "2026-01-01T00:00:00Z",
                "grantControls": {"builtInControls": ["block"]},
                "conditions": {
                    "users": {"includeUsers": ["All"], "excludeUsers": [], "excludeGroups": []}
                },
            },
        ],
        "security/alerts_v2": [
            {
                "id": "al1",
                "title": "Suspicious sign-in",
                "severity": "high",
                "status": "new",
                "createdDateTime": "2026-11-24T01:00:00Z",
            },
            {
                "id": "al2",
                "title": "Malware detected",
                "severity": "medium",
                "status": "resolved",
                "createdDateTime": "2026-11-20T01:00:00Z",
            },
        ],
        "admin/serviceAnnouncement/healthOverviews": [
            {"id": "Exchange", "service": "Exchange Online", "status": "serviceDegradation"},
            {"id": "SharePoint", "service": "SharePoint Online", "status": "serviceOperational"},
        ],
        "admin/serviceAnnouncement/issues": [
            {
                "id": "EX1",
                "title": "Mail delays",
                "service": "Exchange Online",
                "status": "serviceDegradation",
                "classification": "incident",
                "isResolved": False,
                "startDateTime": "2026-11-25T07:00:00Z",
            },
            {
                "id": "SP1",
                "title": "Old issue",
                "service": "SharePoint Online",
                "status": "serviceRestored",
                "classification": "advisory",
                "isResolved": True,
                "startDateTime": "2026-10-01T07:00:00Z",
            },
        ],
        "admin/serviceAnnouncement/messages": [
            {
                "id": "MC1",
                "title": "Teams change",
                "services": ["Microsoft Teams"],
                "category": "planForChange",
                "severity": "normal",
            },
            {
                "id": "MC2",
                "title": "Exchange retirement",
                "services": ["Exchange Online"],
                "category": "planForChange",
                "severity": "high",
            },
        ],
        "sites": [
            {
                "id": SITE,
                "displayName": "Finance",
                "name": "finance",
                "webUrl": "https://contoso.sharepoint.com/sites/finance",
            },
            {
                "id": "contoso.sharepoint.com,x,8",
                "displayName": "Marketing",
                "name": "marketing",
                "webUrl": "https://contoso.sharepoint.com/sites/marketing",
            },
        ],
        "members": {SALES: [ADA, BOB], ADMINS: [GLASS], TEAM: [ADA]},
        "roleMembers": {GA_ROLE: [GLASS], HELPDESK_ROLE: []},
        "licenseDetails": {
            ADA: [{"id": "ld1", "skuId": E3, "skuPartNumber": "ENTERPRISEPACK", "servicePlans": []}]
        },
        "channels": {
            TEAM: [{"id": "19:general", "displayName": "General", "membershipType": "standard"}]
        },
        "drives": {SITE: [{"id": "b!drive", "name": "Documents", "driveType": "documentLibrary"}]},
        "managers": {ADA: BOB},
    }
