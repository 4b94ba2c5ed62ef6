/* permissions.c - the permission catalogue.
 *
 * The first entries are the permissions keyhold's own operations check; their
 * order matches enum perm_id. The ids of the six key permissions and of
 * service_account_write are Datadog's (SEMANTICS.md 3.1 and public Terraform
 * role definitions); the others are stable keyhold ids minted once for this
 * table, to be replaced by Datadog's when the full permission list is
 * recorded (issue 3). */
#include "auth/permissions.h"

#include <string.h>

#define G_KEYS "API and Application Keys"
#define G_ACCESS "Access Management"

static const struct permission catalogue[] = {
    {"api_keys_read", "372896c4-f923-11ea-adbc-4fecd107156d", G_KEYS, "API Keys Read",
     "List and retrieve the key values of all API Keys in your organization."},
    {"api_keys_write", "3e4d4d28-f923-11ea-adbc-e3565938c12e", G_KEYS, "API Keys Write",
     "Create and rename API Keys for your organization."},
    {"api_keys_delete", "7850e390-20da-11ee-bed6-da7ad0900002", G_KEYS, "API Keys Delete",
     "Delete API Keys for your organization."},
    {"user_app_keys", "46a301da-ec5c-11ea-aa9f-73bedeab67ee", G_KEYS, "User App Keys",
     "View and manage Application Keys owned by the user."},
    {"org_app_keys_read", "46a301db-ec5c-11ea-aa9f-2fe72193d60e", G_KEYS, "Org App Keys Read",
     "View Application Keys owned by all users in the organization."},
    {"org_app_keys_write", "46a301dc-ec5c-11ea-aa9f-13b33f8f46ea", G_KEYS, "Org App Keys Write",
     "Manage Application Keys owned by all users in the organization."},
    {"service_account_write", "a42e94b2-1476-11eb-bd08-efda28c04248", G_ACCESS, "Service Account Write",
     "Create, disable, and use Service Accounts in your organization."},
    {"user_access_read", "3b2e6c7a-8d1f-4c2e-9a51-0f7d6e2b4a11", G_ACCESS, "User Access Read",
     "View users and their roles and settings."},
    {"user_access_invite", "6d1c2f40-0e6a-4d7b-8c3e-5b9a1f2e7c22", G_ACCESS, "User Access Invite",
     "Invite other users to your organization."},
    {"user_access_manage", "8f4e1a6b-2c3d-4e5f-a6b7-c8d9e0f1a233", G_ACCESS, "User Access Manage",
     "Disable users, manage user roles, manage SAML-to-role mappings, and configure logs restriction queries."},
    {"client_tokens_read", "9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c44", G_KEYS, "Client Tokens Read",
     "Read Client Tokens. Unlike API keys, client tokens may be exposed client-side in JavaScript code."},
    {"client_tokens_write", "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c55", G_KEYS, "Client Tokens Write",
     "Create and edit Client Tokens."},
    {"dashboards_read", "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d66", "Dashboards", "Dashboards Read",
     "View dashboards."},
    {"dashboards_write", "c3d4e5f6-a7b8-4c9d-8e1f-2a3b4c5d6e77", "Dashboards", "Dashboards Write",
     "Create and change dashboards."},
    {"monitors_read", "d4e5f6a7-b8c9-4d0e-9f2a-3b4c5d6e7f88", "Monitors", "Monitors Read",
     "View monitors."},
    {"monitors_write", "e5f6a7b8-c9d0-4e1f-8a3b-4c5d6e7f8a99", "Monitors", "Monitors Write",
     "Edit, delete, and resolve individual monitors."},
    {"metrics_read", "f6a7b8c9-d0e1-4f2a-9b4c-5d6e7f8a9baa", "Metrics", "Metrics Read",
     "View custom metrics."},
    {"events_read", "a7b8c9d0-e1f2-4a3b-8c5d-6e7f8a9b0cbb", "Events", "Events Read",
     "Read Events data."},
    {"logs_read_data", "b8c9d0e1-f2a3-4b4c-9d6e-7f8a9b0c1dcc", "Log Management", "Logs Read Data",
     "Read log data, possibly scoped by restriction queries."},
    {"synthetics_read", "c9d0e1f2-a3b4-4c5d-8e7f-8a9b0c1d2edd", "Synthetic Monitoring", "Synthetics Read",
     "List and view configured Synthetic tests and test results."},
    {"synthetics_write", "d0e1f2a3-b4c5-4d6e-9f8a-9b0c1d2e3fee", "Synthetic Monitoring", "Synthetics Write",
     "Create, edit, and delete Synthetic tests."},
    {"incident_read", "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4aff", "Case and Incident Management", "Incident Read",
     "View incidents in Datadog."},
    {"incident_write", "f2a3b4c5-d6e7-4f8a-9b0c-1d2e3f4a5b10", "Case and Incident Management", "Incident Write",
     "Create, view, and manage incidents in Datadog."},
    {"apm_read", "a3b4c5d6-e7f8-4a9b-8c1d-2e3f4a5b6c21", "APM", "APM Read",
     "Read and query APM and Trace Analytics."},
};

size_t perm_count(void)
{
    return sizeof catalogue / sizeof catalogue[0];
}

const struct permission *perm_get(size_t index)
{
    return index < perm_count() ? &catalogue[index] : NULL;
}

int perm_find(const char *name)
{
    for (size_t i = 0; i < perm_count(); i++)
        if (strcmp(catalogue[i].name, name) == 0)
            return (int)i;
    return -1;
}

int perm_find_id(const char *id)
{
    for (size_t i = 0; i < perm_count(); i++)
        if (strcmp(catalogue[i].id, id) == 0)
            return (int)i;
    return -1;
}

void permset_clear(struct permset *s)
{
    memset(s, 0, sizeof *s);
}

void permset_all(struct permset *s)
{
    permset_clear(s);
    for (size_t i = 0; i < perm_count(); i++)
        permset_add(s, (int)i);
}

void permset_add(struct permset *s, int index)
{
    if (index >= 0 && index < PERM_WORDS * 64)
        s->bits[index / 64] |= UINT64_C(1) << (index % 64);
}

int permset_has(const struct permset *s, int index)
{
    if (index < 0 || index >= PERM_WORDS * 64)
        return 0;
    return (s->bits[index / 64] >> (index % 64)) & 1;
}

void permset_intersect(struct permset *s, const struct permset *other)
{
    for (int i = 0; i < PERM_WORDS; i++)
        s->bits[i] &= other->bits[i];
}

int permset_subset(const struct permset *sub, const struct permset *super)
{
    for (int i = 0; i < PERM_WORDS; i++)
        if (sub->bits[i] & ~super->bits[i])
            return 0;
    return 1;
}
