/* test_provision.c - orgs and users as the command line and --ephemeral
 * make them, the managed roles kept in step with the catalogue (and what
 * they pass on through receives_permissions_from), and test mode's reset. */
#include "test.h"

#include "auth/permissions.h"
#include "auth/provision.h"
#include "fixture.h"
#include "util/clock.h"
#include "util/xmalloc.h"

#include <sqlite3.h>

/* The role of the fixture's org named `name` (caller clears). */
static void role_named(struct fixture *f, const char *name, struct store_role *out)
{
    struct store_role_query q = {.org_id = f->admin.org_id, .name = name, .page = {.limit = 5}};
    struct store_role_list l;
    memset(out, 0, sizeof *out);
    CHECK_INT(store_role_list(f->st, &q, &l), KH_OK);
    CHECK_INT(l.n, 1);
    if (l.n == 1) {
        *out = l.items[0];
        memset(&l.items[0], 0, sizeof l.items[0]);
    }
    store_role_list_free(&l);
}

static int role_has(struct fixture *f, const char *role_id, const char *perm)
{
    struct store_strlist names;
    int found = 0;
    CHECK_INT(store_role_permissions(f->st, role_id, &names), KH_OK);
    for (size_t i = 0; i < names.n; i++)
        found |= strcmp(names.items[i], perm) == 0;
    store_strlist_free(&names);
    return found;
}

static void a_new_org_has_the_managed_roles_and_its_admin_the_admin_role(void)
{
    struct fixture f;
    struct store_role admin, ro;
    struct store_strlist mine;
    fixture_open(&f);
    role_named(&f, "Datadog Admin Role", &admin);
    role_named(&f, "Datadog Read Only Role", &ro);
    CHECK_INT(admin.managed, 1);
    CHECK_INT(ro.managed, 1);
    CHECK_INT(admin.user_count, 1);
    CHECK_INT(store_user_roles(f.st, f.admin.user_id, &mine), KH_OK);
    CHECK_INT(mine.n, 1);
    if (mine.n == 1)
        CHECK_STR(mine.items[0], admin.id);
    CHECK(role_has(&f, ro.id, "dashboards_read"));
    CHECK(!role_has(&f, ro.id, "dashboards_write"));
    CHECK(role_has(&f, admin.id, "api_keys_delete"));
    store_strlist_free(&mine);
    store_role_clear(&admin);
    store_role_clear(&ro);
    fixture_close(&f);
}

static void a_user_gets_a_role_by_name_or_one_of_its_own(void)
{
    struct fixture f;
    struct provisioned p;
    const char *bad = NULL, *perms[] = {"api_keys_read", "levitate"};
    struct store_strlist held;
    fixture_open(&f);
    CHECK_INT(provision_user(f.st, &f.secret, f.admin.org_id, "ro@example.com", "Datadog Read Only Role", NULL, 0, &p,
                             &bad, NULL),
              KH_OK);
    CHECK_INT(store_user_permissions(f.st, p.user_id, &held), KH_OK);
    CHECK(held.n > 50);
    store_strlist_free(&held);
    provisioned_wipe(&p);
    CHECK_INT(provision_user(f.st, &f.secret, f.admin.org_id, "x@example.com", "No Such Role", NULL, 0, &p, &bad, NULL),
              KH_ENOTFOUND);
    CHECK_STR(bad, "No Such Role");
    CHECK_INT(provision_user(f.st, &f.secret, f.admin.org_id, "y@example.com", NULL, perms, 2, &p, &bad, NULL), KH_EINVAL);
    CHECK_STR(bad, "levitate");
    /* user_access_read is every user's, never a role's */
    const char *implicit[] = {"user_access_read"};
    CHECK_INT(provision_user(f.st, &f.secret, f.admin.org_id, "z@example.com", NULL, implicit, 1, &p, &bad, NULL),
              KH_EINVAL);
    fixture_close(&f);
}

/* Makes the store look as if a keyhold with another catalogue had run it. */
static void forget_catalogue(struct fixture *f)
{
    CHECK_INT(store_meta_set(f->st, "permission_catalog", "0:stale"), KH_OK);
}

static void sync_restores_managed_roles_and_passes_gains_on(void)
{
    struct fixture f;
    struct store_role admin, follower = {0}, bystander = {0};
    fixture_open(&f);
    role_named(&f, "Datadog Admin Role", &admin);
    /* As if billing_edit were new in this catalogue: the admin role lacks it. */
    CHECK_INT(store_role_permission_remove(f.st, admin.id, "billing_edit"), KH_OK);
    CHECK_INT(store_role_permission_add(f.st, admin.id, "retired_permission"), KH_OK);
    uuid_generate(follower.id);
    memcpy(follower.org_id, f.admin.org_id, UUID_STR);
    follower.name = xstrdup("follower");
    follower.receives = xstrdup("[\"Datadog Admin Role\"]");
    uuid_generate(bystander.id);
    memcpy(bystander.org_id, f.admin.org_id, UUID_STR);
    bystander.name = xstrdup("bystander");
    CHECK_INT(store_role_insert(f.st, &follower), KH_OK);
    CHECK_INT(store_role_insert(f.st, &bystander), KH_OK);
    /* Nothing happens while the store follows this catalogue. */
    CHECK_INT(provision_sync_catalog(f.st), KH_OK);
    CHECK(!role_has(&f, admin.id, "billing_edit"));
    forget_catalogue(&f);
    CHECK_INT(provision_sync_catalog(f.st), KH_OK);
    CHECK(role_has(&f, admin.id, "billing_edit"));
    CHECK(!role_has(&f, admin.id, "retired_permission"));
    CHECK(role_has(&f, follower.id, "billing_edit"));
    CHECK(!role_has(&f, follower.id, "api_keys_read")); /* only what was gained */
    CHECK(!role_has(&f, bystander.id, "billing_edit"));
    store_role_clear(&admin);
    store_role_clear(&follower);
    store_role_clear(&bystander);
    fixture_close(&f);
}

static int count_roles_named(struct fixture *f, const char *name)
{
    struct store_role_query q = {.org_id = f->admin.org_id, .name = name, .page = {.limit = 5}};
    struct store_role_list l;
    CHECK_INT(store_role_list(f->st, &q, &l), KH_OK);
    int n = (int)l.n;
    store_role_list_free(&l);
    return n;
}

/* Runs SQL on the fixture's store behind the store's back (an old store). */
static void raw_sql(struct fixture *f, const char *sql)
{
    if (f->schema[0]) {
        char *all = sqlite3_mprintf("SET search_path TO %s; %s", f->schema, sql);
        fixture_pg_exec(all);
        sqlite3_free(all);
        return;
    }
    sqlite3 *db;
    CHECK_INT(sqlite3_open(f->path, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void sync_makes_missing_managed_roles(void)
{
    struct fixture f;
    struct store_role std;
    fixture_open(&f);
    role_named(&f, "Datadog Standard Role", &std);
    CHECK_INT(store_role_delete(f.st, f.admin.org_id, std.id), KH_OK); /* the API refuses; an old store may lack it */
    store_role_clear(&std);
    CHECK_INT(provision_sync_catalog(f.st), KH_OK); /* same catalogue: nothing to do */
    CHECK_INT(count_roles_named(&f, "Datadog Standard Role"), 0);
    raw_sql(&f, "DELETE FROM meta WHERE key = 'permission_catalog'");
    CHECK_INT(provision_sync_catalog(f.st), KH_OK);
    CHECK_INT(count_roles_named(&f, "Datadog Standard Role"), 1);
    CHECK_INT(count_roles_named(&f, "Datadog Read Only Role"), 1);
    CHECK_INT(count_roles_named(&f, "Datadog Admin Role"), 1);
    fixture_close(&f);
}

/* A custom role of an old store that bears a managed role's name is not
 * handed out as that managed role. */
static void a_custom_role_named_like_a_managed_one_is_not_given_as_it(void)
{
    struct fixture f;
    struct store_role ro;
    struct provisioned p;
    const char *bad = NULL;
    fixture_open(&f);
    role_named(&f, "Datadog Read Only Role", &ro);
    CHECK_INT(store_role_delete(f.st, f.admin.org_id, ro.id), KH_OK);
    store_role_clear(&ro);
    raw_sql(&f, "INSERT INTO roles(id, org_id, name, created_at, modified_at, managed) VALUES "
                "('00000000-0000-4000-8000-0000000000aa', (SELECT id FROM orgs), 'Datadog Read Only Role', 1, 1, 0)");
    CHECK_INT(provision_user(f.st, &f.secret, f.admin.org_id, "x@example.com", "Datadog Read Only Role", NULL, 0, &p,
                             &bad, NULL),
              KH_ENOTFOUND);
    CHECK_STR(bad, "Datadog Read Only Role");
    fixture_close(&f);
}

extern const char *const store_sqlite_migrations[];

/* A store as keyhold made it before it knew Datadog's catalogue: schema up
 * to 006, an org whose admin role (named like Datadog's) held keyhold's old
 * permission names, one of which the catalogue does not have. */
static void old_store(const char *path, char org[UUID_STR], char admin_role[UUID_STR])
{
    sqlite3 *db;
    char *sql;
    CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_exec(db, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)", NULL,
                 NULL, NULL);
    for (int i = 0; i < 6; i++) {
        CHECK_INT(sqlite3_exec(db, store_sqlite_migrations[i], NULL, NULL, NULL), SQLITE_OK);
        sql = sqlite3_mprintf("INSERT INTO schema_migrations VALUES (%d, 0)", i + 1);
        sqlite3_exec(db, sql, NULL, NULL, NULL);
        sqlite3_free(sql);
    }
    uuid_generate(org);
    uuid_generate(admin_role);
    sql = sqlite3_mprintf("INSERT INTO meta VALUES ('initialized', '1');"
                          "INSERT INTO orgs VALUES ('%s', 'old', 1);"
                          "INSERT INTO roles VALUES ('%s', '%s', 'Datadog Admin Role', 1, 1);"
                          "INSERT INTO role_permissions VALUES ('%s', 'api_keys_read'), ('%s', 'metrics_read');",
                          org, admin_role, org, admin_role, admin_role);
    CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_free(sql);
    sqlite3_close(db);
}

static void a_store_from_before_the_catalogue_is_brought_in_step(void)
{
    struct fixture f;
    char org[UUID_STR], admin_role[UUID_STR], *err = NULL;
    struct store_role r;
    SQLITE_ONLY(); /* an old SQLite file; PostgreSQL stores began with the catalogue */
    memset(&f, 0, sizeof f);
    snprintf(f.path, sizeof f.path, "/tmp/kh-old-XXXXXX");
    close(mkstemp(f.path));
    snprintf(f.dsn, sizeof f.dsn, "%s", f.path);
    old_store(f.path, org, admin_role);
    CHECK_INT(store_open(f.dsn, &f.st, &err), KH_OK); /* applies 007 */
    CHECK_INT(provision_sync_catalog(f.st), KH_OK);
    memcpy(f.admin.org_id, org, UUID_STR);
    role_named(&f, "Datadog Admin Role", &r);
    CHECK_STR(r.id, admin_role);
    CHECK_INT(r.managed, 1);
    CHECK(role_has(&f, admin_role, "billing_edit"));
    CHECK(!role_has(&f, admin_role, "metrics_read"));
    store_role_clear(&r);
    CHECK_INT(count_roles_named(&f, "Datadog Standard Role"), 1);
    CHECK_INT(count_roles_named(&f, "Datadog Read Only Role"), 1);
    fixture_close(&f);
}

static void reset_keeps_the_first_org_its_admin_and_their_keys(void)
{
    struct fixture f;
    struct provisioned two, bob;
    const char *bad = NULL, *perms[] = {"user_app_keys"};
    struct store_user u;
    int64_t n;
    fixture_open(&f);
    CHECK_INT(provision_org(f.st, &f.secret, &(struct org_spec){.name = "two", .admin_email = "b@two.example"}, &two),
              KH_OK);
    CHECK_INT(provision_user(f.st, &f.secret, f.admin.org_id, "bob@example.com", NULL, perms, 1, &bob, &bad, NULL), KH_OK);
    CHECK_INT(store_user_get(f.st, f.admin.org_id, f.admin.user_id, &u), KH_OK);
    u.disabled = 1;
    CHECK_INT(store_user_update(f.st, &u), KH_OK);
    store_user_clear(&u);
    CHECK_INT(provision_reset(f.st), KH_OK);
    CHECK_INT(store_org_count(f.st, &n), KH_OK);
    CHECK_INT(n, 1);
    CHECK_INT(store_user_get(f.st, NULL, bob.user_id, &u), KH_ENOTFOUND);
    CHECK_INT(store_user_get(f.st, f.admin.org_id, f.admin.user_id, &u), KH_OK);
    CHECK_INT(u.disabled, 0);
    store_user_clear(&u);
    struct store_api_key k;
    CHECK_INT(store_api_key_get(f.st, f.admin.org_id, f.admin.api_key_id, &k), KH_OK);
    store_api_key_clear(&k);
    struct store_strlist held;
    CHECK_INT(store_user_permissions(f.st, f.admin.user_id, &held), KH_OK);
    CHECK_INT(held.n, perm_count());
    store_strlist_free(&held);
    provisioned_wipe(&two);
    provisioned_wipe(&bob);
    fixture_close(&f);
}

int main(void)
{
    RUN(a_new_org_has_the_managed_roles_and_its_admin_the_admin_role);
    RUN(a_user_gets_a_role_by_name_or_one_of_its_own);
    RUN(sync_restores_managed_roles_and_passes_gains_on);
    RUN(sync_makes_missing_managed_roles);
    RUN(a_custom_role_named_like_a_managed_one_is_not_given_as_it);
    RUN(a_store_from_before_the_catalogue_is_brought_in_step);
    RUN(reset_keeps_the_first_org_its_admin_and_their_keys);
    return TEST_SUMMARY();
}
