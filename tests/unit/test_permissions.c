/* test_permissions.c - the generated catalogue and its lookups, the
 * implicit user_access_read scope, permission sets, and the permission sets
 * of Datadog's managed roles. */
#include "test.h"

#include "auth/permissions.h"

#include <string.h>

static void every_entry_is_found_by_its_name_and_its_id(void)
{
    CHECK_INT(perm_count(), 300);
    for (size_t i = 0; i < perm_count(); i++) {
        const struct permission *p = perm_get(i);
        CHECK_INT(perm_find(p->name), i);
        CHECK_INT(perm_find_id(p->id), i);
        CHECK_STR(perm_name((int)i), p->name);
        CHECK(strcmp(p->display_type, "read") == 0 || strcmp(p->display_type, "write") == 0 ||
              strcmp(p->display_type, "other") == 0);
    }
    CHECK(perm_get(perm_count()) == NULL);
}

static void generated_names_carry_datadogs_ids(void)
{
    CHECK_STR(perm_get(PERM_API_KEYS_READ)->name, "api_keys_read");
    CHECK_STR(perm_get(PERM_API_KEYS_READ)->id, "372896c4-f923-11ea-adbc-4fecd107156d");
    CHECK_STR(perm_get(PERM_USER_APP_KEYS)->id, "46a301da-ec5c-11ea-aa9f-73bedeab67ee");
    CHECK_STR(perm_get(PERM_SERVICE_ACCOUNT_WRITE)->group, "Access Management");
    CHECK_STR(perm_get(PERM_DASHBOARDS_PUBLIC_SHARE)->name, "dashboards_public_share");
    CHECK_INT(perm_get(PERM_DASHBOARDS_READ)->restricted, 1);
    CHECK_INT(perm_get(PERM_DASHBOARDS_WRITE)->restricted, 0);
    CHECK_STR(perm_get(PERM_ADMIN)->created, "2018-10-19T15:35:23.734317Z");
}

static void unknown_names_and_ids_are_not_found(void)
{
    const char *bad[] = {"", "API_KEYS_READ", "api_keys_rea", "api_keys_readx", "zzz", "aaa"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(perm_find(bad[i]), -1);
    CHECK_INT(perm_find_id("00000000-0000-0000-0000-000000000000"), -1);
    CHECK_INT(perm_find_id("api_keys_read"), -1);
}

static void user_access_read_is_a_scope_but_not_a_catalogue_permission(void)
{
    CHECK_INT(perm_find("user_access_read"), PERM_USER_ACCESS_READ);
    CHECK_STR(perm_name(PERM_USER_ACCESS_READ), "user_access_read");
    CHECK(PERM_USER_ACCESS_READ >= (int)perm_count());
    CHECK(perm_get(PERM_USER_ACCESS_READ) == NULL);
    CHECK_STR(perm_scope_get(PERM_USER_ACCESS_READ)->id, "68d1ed9e-33ad-11ed-8a72-da7ad0900002");
    CHECK_INT(perm_scope_get(PERM_USER_ACCESS_READ)->restricted, 1);
    CHECK(perm_scope_get(PERM_LIMIT) == NULL && perm_scope_get(-1) == NULL);
    CHECK_INT(perm_find_id("68d1ed9e-33ad-11ed-8a72-da7ad0900002"), -1); /* no role can be granted it */
    CHECK_STR(perm_name(PERM_LIMIT), "");
    CHECK_STR(perm_name(-1), "");
}

static void permsets_hold_every_index_and_name_the_first_missing(void)
{
    struct permset all, some;
    permset_all(&all);
    for (int i = 0; i < PERM_LIMIT; i++)
        CHECK(permset_has(&all, i));
    CHECK(!permset_has(&all, PERM_LIMIT));
    CHECK(!permset_has(&all, -1));
    permset_clear(&some);
    permset_add(&some, PERM_USER_ACCESS_READ);
    permset_add(&some, 299);
    permset_add(&some, PERM_LIMIT); /* ignored */
    CHECK(permset_subset(&some, &all));
    CHECK_INT(permset_first_missing(&all, &some), 0);
    permset_intersect(&all, &some);
    CHECK(permset_subset(&all, &some) && permset_subset(&some, &all));
    CHECK_INT(permset_first_missing(&some, &all), -1);
}

static void managed_roles_nest_and_keep_sensitive_permissions_for_admin(void)
{
    struct permset admin, standard, read_only;
    managed_role_permset(MANAGED_ADMIN, &admin);
    managed_role_permset(MANAGED_STANDARD, &standard);
    managed_role_permset(MANAGED_READ_ONLY, &read_only);
    for (size_t i = 0; i < perm_count(); i++)
        CHECK(permset_has(&admin, (int)i));
    CHECK(!permset_has(&admin, PERM_USER_ACCESS_READ)); /* not a role permission */
    CHECK(permset_subset(&read_only, &standard));
    CHECK(permset_subset(&standard, &admin));
    for (size_t i = 0; i < perm_count(); i++)
        if (permset_has(&read_only, (int)i))
            CHECK_STR(perm_get(i)->display_type, "read");
    const int admin_only[] = {PERM_ADMIN, PERM_API_KEYS_READ, PERM_API_KEYS_WRITE, PERM_API_KEYS_DELETE,
                              PERM_ORG_APP_KEYS_READ, PERM_ORG_APP_KEYS_WRITE, PERM_USER_ACCESS_MANAGE,
                              PERM_SERVICE_ACCOUNT_WRITE, PERM_BILLING_READ, PERM_USAGE_READ};
    for (size_t i = 0; i < sizeof admin_only / sizeof admin_only[0]; i++)
        CHECK(!permset_has(&standard, admin_only[i]));
    const int standard_too[] = {PERM_USER_APP_KEYS, PERM_USER_ACCESS_INVITE, PERM_DASHBOARDS_WRITE, PERM_MONITORS_WRITE,
                                PERM_STANDARD};
    for (size_t i = 0; i < sizeof standard_too / sizeof standard_too[0]; i++)
        CHECK(permset_has(&standard, standard_too[i]) && !permset_has(&read_only, standard_too[i]));
    CHECK(permset_has(&read_only, PERM_DASHBOARDS_READ));
    CHECK(permset_has(&read_only, PERM_LOGS_READ_DATA));
    CHECK_INT(managed_role_find("Datadog Standard Role"), MANAGED_STANDARD);
    CHECK_INT(managed_role_find("datadog standard role"), -1);
    CHECK_STR(managed_role_name(MANAGED_READ_ONLY), "Datadog Read Only Role");
    CHECK(managed_role_name(MANAGED_COUNT) == NULL);
}

int main(void)
{
    RUN(every_entry_is_found_by_its_name_and_its_id);
    RUN(generated_names_carry_datadogs_ids);
    RUN(unknown_names_and_ids_are_not_found);
    RUN(user_access_read_is_a_scope_but_not_a_catalogue_permission);
    RUN(permsets_hold_every_index_and_name_the_first_missing);
    RUN(managed_roles_nest_and_keep_sensitive_permissions_for_admin);
    return TEST_SUMMARY();
}
