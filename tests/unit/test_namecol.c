#define _GNU_SOURCE
/* test_namecol.c - token lists with a name filter answered from the
 * in-memory name column (src/store/namecol.c) against the same lists in SQL,
 * on a seeded store: every sort, paging, kind and owner filters, filters with
 * % _ \ and case and non-ASCII, expiry between two requests, and changes
 * made by another process (SQLite) or connection (PostgreSQL) between two
 * requests, plus readers racing a writer. The SQL answer is the reference:
 * a list inside a transaction never uses the column (sql.c). Runs on SQLite,
 * and on PostgreSQL with KEYHOLD_TEST_PG (fixture.h). */
#include "test.h"

#include "fixture.h"
#include "store/namecol.h"
#include "store/sql.h"
#include "util/clock.h"
#include "util/xmalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <sys/wait.h>

#define HOUR_US 3600000000LL

static int64_t now_us;
static char bob_id[UUID_STR];

static void add_token(struct fixture *f, const char *owner, int kind, const char *name, int64_t created,
                      int64_t expires, char id_out[UUID_STR])
{
    struct store_token t;
    memset(&t, 0, sizeof t);
    uuid_generate(t.id);
    memcpy(t.org_id, f->admin.org_id, UUID_STR);
    memcpy(t.owner_id, owner, UUID_STR);
    t.kind = kind;
    t.name = (char *)name;
    t.scopes = "[\"api_keys_read\"]";
    memset(t.secret_hash, 0xab, SECRET_HASH_LEN);
    t.created_at = created;
    t.expires_at = expires;
    t.secret_version = 1;
    CHECK_INT(store_token_insert(f->st, &t), KH_OK);
    if (id_out)
        memcpy(id_out, t.id, UUID_STR);
}

static const char *const names[] = {
    "seed token 0001", "Seed Token 0002", "SEED TOKEN 0003", "token 00004", "alpha", "Alpha", "ALPHA beta",
    "50% off", "50 percent", "a_b", "axb", "back\\slash", "back slash", "Ärger", "ärger", "Ünïcode ß", "naïve",
    "ÅNGSTRÖM", "ångström", "x", "", "  spaced  ", "tab\tin", "émile", "Émile", "z_%\\", "ZZ top",
};
#define N_NAMES (sizeof names / sizeof names[0])

/* A store with every name several times over: two owners, both kinds, some
 * created at the same instant (ties broken by id), some expired, some
 * expiring later, some revoked. */
static void seed(struct fixture *f)
{
    struct provisioned bob;
    const char *none = NULL;
    const char *perms[] = {"user_app_keys"};
    fixture_open(f);
    CHECK_INT(provision_user(f->st, &f->secret, f->admin.org_id, "bob@example.com", NULL, perms, 1, &bob, &none, NULL),
              KH_OK);
    memcpy(bob_id, bob.user_id, UUID_STR);
    now_us = clock_now_us();
    for (int round = 0; round < 6; round++) {
        for (size_t i = 0; i < N_NAMES; i++) {
            char id[UUID_STR];
            int k = (int)(round * N_NAMES + i);
            int64_t created = now_us - HOUR_US + (k % 7) * 1000; /* many equal instants */
            int64_t expires = k % 5 == 0 ? now_us - 1000 : k % 5 == 1 ? now_us + HOUR_US : 0;
            add_token(f, k % 3 ? f->admin.user_id : bob_id, k % 4 ? STORE_TOKEN_PAT : STORE_TOKEN_SAT, names[i],
                      created, expires, id);
            if (k % 11 == 0)
                CHECK_INT(store_token_revoke(f->st, f->admin.org_id, id, &(struct store_ending){.at = now_us}), KH_OK);
        }
    }
}

/* The reference: the same list inside a transaction, which is SQL only. */
static int list_sql(struct store *st, const struct store_token_query *q, struct store_token_list *out)
{
    int rc = store_begin(st);
    if (!rc)
        rc = store_token_list(st, q, out);
    store_rollback(st);
    return rc;
}

static int same_list(const struct store_token_list *a, const struct store_token_list *b)
{
    if (a->total != b->total || a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->items[i].id, b->items[i].id) != 0 || strcmp(a->items[i].name, b->items[i].name) != 0 ||
            a->items[i].expires_at != b->items[i].expires_at || a->items[i].created_at != b->items[i].created_at)
            return 0;
    return 1;
}

/* Lists q from memory and from SQL and checks they agree; returns the total. */
static int64_t compare(struct store *st, const struct store_token_query *q)
{
    struct store_token_list mem, ref;
    uint64_t answered = namecol_answers();
    CHECK_INT(store_token_list(st, q, &mem), KH_OK);
    /* The page from memory for the sorts the column reproduces. */
    CHECK_INT(namecol_answers() - answered, q->sort == STORE_SORT_NAME || q->sort == STORE_SORT_CREATED_AT);
    CHECK_INT(list_sql(st, q, &ref), KH_OK);
    int ok = same_list(&mem, &ref);
    if (!ok)
        fprintf(stderr, "  differ: filter '%s' sort %d desc %d offset %lld limit %lld kind %d owners %zu: "
                        "total %lld/%lld n %zu/%zu\n",
                q->name_filter, (int)q->sort, q->desc, (long long)q->page.offset, (long long)q->page.limit, q->kind,
                q->n_owners, (long long)mem.total, (long long)ref.total, mem.n, ref.n);
    CHECK(ok);
    int64_t total = ref.total;
    store_token_list_free(&mem);
    store_token_list_free(&ref);
    return total;
}

static struct store_token_query query(struct fixture *f, const char *filter, enum store_sort sort, int desc)
{
    struct store_token_query q;
    memset(&q, 0, sizeof q);
    q.org_id = f->admin.org_id;
    q.name_filter = filter;
    q.now = now_us;
    q.sort = sort;
    q.desc = desc;
    q.page.limit = 100;
    return q;
}

static const char *const filters[] = {"token", "TOKEN 000", "seed token 0001", "nothing like it", "%", "_", "\\",
                                      "50%",   "a_b",       "A_B",             "ä",               "Ä", "ö", "ß",
                                      " ",     "\t",        "émile",           "Ångström",        "z_%\\", "a"};
#define N_FILTERS (sizeof filters / sizeof filters[0])

static const enum store_sort sorts[] = {STORE_SORT_NAME, STORE_SORT_CREATED_AT, STORE_SORT_EXPIRES_AT,
                                        STORE_SORT_LAST_USED_AT};

static void memory_lists_equal_sql_for_every_filter_sort_and_page(void)
{
    struct fixture f;
    seed(&f);
    for (size_t fi = 0; fi < N_FILTERS; fi++) {
        for (size_t si = 0; si < sizeof sorts / sizeof sorts[0]; si++) {
            for (int desc = 0; desc < 2; desc++) {
                struct store_token_query q = query(&f, filters[fi], sorts[si], desc);
                int64_t total = compare(f.st, &q);
                q.page.limit = 7;
                for (q.page.offset = 0; q.page.offset <= total + 7; q.page.offset += 7)
                    compare(f.st, &q);
            }
        }
    }
    fixture_close(&f);
}

static void memory_lists_honour_kind_owner_and_expiry(void)
{
    struct fixture f;
    const char *unknown = "00000000-0000-4000-8000-000000000000";
    seed(&f);
    for (size_t fi = 0; fi < N_FILTERS; fi += 3) {
        for (int kind = 0; kind <= 2; kind++) {
            for (int owners = 0; owners < 4; owners++) {
                struct store_token_query q = query(&f, filters[fi], fi % 2 ? STORE_SORT_NAME : STORE_SORT_CREATED_AT,
                                                   owners % 2);
                q.kind = kind;
                if (owners == 1)
                    q.owner_ids[q.n_owners++] = bob_id;
                if (owners == 2) {
                    q.owner_ids[q.n_owners++] = unknown;
                    q.owner_ids[q.n_owners++] = f.admin.user_id;
                }
                if (owners == 3)
                    q.owner_ids[q.n_owners++] = "";
                compare(f.st, &q);
                q.now = now_us + 2 * HOUR_US; /* the tokens expiring within the hour are gone */
                compare(f.st, &q);
            }
        }
    }
    /* A token expiring between two requests leaves the second answer. */
    add_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "expiring soon", now_us, now_us + 5000, NULL);
    struct store_token_query q = query(&f, "expiring soon", STORE_SORT_NAME, 0);
    q.now = now_us + 4999;
    CHECK_INT(compare(f.st, &q), 1);
    q.now = now_us + 5000;
    CHECK_INT(compare(f.st, &q), 0);
    fixture_close(&f);
}

/* Case folding is each backend's own: SQLite folds ASCII only, PostgreSQL
 * (ILIKE, lower()) every letter. The column answers as its backend does. */
static void memory_lists_fold_case_as_the_backend_does(void)
{
    struct fixture f;
    struct store_token_list l;
    seed(&f);
    struct store_token_query upper = query(&f, "ÄRGER", STORE_SORT_NAME, 0);
    struct store_token_query ascii = query(&f, "SEED TOKEN", STORE_SORT_NAME, 0);
    CHECK(compare(f.st, &upper) > 0);
    CHECK(compare(f.st, &ascii) > 0);
    CHECK_INT(store_token_list(f.st, &upper, &l), KH_OK);
    int small_a = 0; /* rows named "ärger" found by "ÄRGER" */
    for (size_t i = 0; i < l.n; i++)
        small_a += strcmp(l.items[i].name, "ärger") == 0;
    store_token_list_free(&l);
    if (fixture_pg())
        CHECK(small_a > 0);
    else
        CHECK_INT(small_a, 0);
    fixture_close(&f);
}

/* Runs sql as another writer: a forked process with its own SQLite
 * connection, or another PostgreSQL session (as another node would). */
static void other_writer(struct fixture *f, const char *sql)
{
    if (fixture_pg()) {
        char *full = xasprintf("SET search_path TO %s; %s", f->schema, sql);
        fixture_pg_exec(full);
        free(full);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        sqlite3 *db = NULL;
        int rc = sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_busy_timeout(db, 5000);
            rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        }
        sqlite3_close(db);
        _exit(rc == SQLITE_OK ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void insert_sql(struct fixture *f, const char *id, const char *name, char *out, size_t len)
{
    snprintf(out, len,
             "INSERT INTO tokens (id, org_id, owner_id, kind, name, scopes, secret_hash, created_at) VALUES "
             "('%s', '%s', '%s', 1, '%s', '[]', %s, %lld)",
             id, f->admin.org_id, f->admin.user_id, name, fixture_pg() ? "'\\x00'::bytea" : "x'00'",
             (long long)(now_us - 10));
}

static void memory_lists_see_other_writers_at_once(void)
{
    struct fixture f;
    char sql[1024], id[UUID_STR], id2[UUID_STR];
    seed(&f);
    struct store_token_query q = query(&f, "moved", STORE_SORT_NAME, 0);
    struct store_token_query c = query(&f, "moved", STORE_SORT_CREATED_AT, 1);
    CHECK_INT(compare(f.st, &q), 0);
    uuid_generate(id);
    insert_sql(&f, id, "Moved in", sql, sizeof sql);
    other_writer(&f, sql);
    CHECK_INT(compare(f.st, &q), 1); /* inserted */
    uuid_generate(id2);
    insert_sql(&f, id2, "moved too", sql, sizeof sql);
    other_writer(&f, sql);
    CHECK_INT(compare(f.st, &c), 2);
    snprintf(sql, sizeof sql, "UPDATE tokens SET name = 'renamed' WHERE id = '%s'", id);
    other_writer(&f, sql);
    CHECK_INT(compare(f.st, &q), 1); /* renamed away */
    snprintf(sql, sizeof sql, "UPDATE tokens SET name = 'MOVED back' WHERE id = '%s'", id);
    other_writer(&f, sql);
    CHECK_INT(compare(f.st, &c), 2);
    snprintf(sql, sizeof sql, "UPDATE tokens SET expires_at = %lld WHERE id = '%s'", (long long)(now_us - 1), id);
    other_writer(&f, sql);
    CHECK_INT(compare(f.st, &q), 1); /* expired */
    snprintf(sql, sizeof sql, "UPDATE tokens SET revoked_at = %lld WHERE id = '%s'", (long long)now_us, id2);
    other_writer(&f, sql);
    CHECK_INT(compare(f.st, &q), 0); /* revoked */
    snprintf(sql, sizeof sql, "UPDATE tokens SET expires_at = NULL, owner_id = '%s', kind = 2 WHERE id = '%s'",
             bob_id, id);
    other_writer(&f, sql);
    q.owner_ids[0] = bob_id;
    q.n_owners = 1;
    q.kind = STORE_TOKEN_SAT;
    CHECK_INT(compare(f.st, &q), 1); /* owner and kind changed */
    snprintf(sql, sizeof sql, "DELETE FROM tokens WHERE id = '%s'", id);
    other_writer(&f, sql);
    CHECK_INT(compare(f.st, &q), 0); /* deleted */
    struct store_token_query all = query(&f, "token", STORE_SORT_NAME, 0);
    compare(f.st, &all);
    /* last_used_at is not a column the lists from memory depend on: it
     * moves no revision, and the answers stay equal. */
    other_writer(&f, "UPDATE tokens SET last_used_at = 5");
    compare(f.st, &all);
    fixture_close(&f);
}

/* The memory path is taken: the column answers and holds what it should. */
static void memory_path_answers_sorted_filtered_lists(void)
{
    struct fixture f;
    seed(&f);
    struct store_token_query q = query(&f, "token", STORE_SORT_NAME, 0);
    struct store_token_list mem;
    uint64_t before = namecol_answers();
    CHECK_INT(store_token_list(f.st, &q, &mem), KH_OK);
    store_token_list_free(&mem);
    q.sort = STORE_SORT_CREATED_AT;
    CHECK_INT(store_token_list(f.st, &q, &mem), KH_OK);
    store_token_list_free(&mem);
    CHECK_INT(namecol_answers() - before, 2);
    fixture_close(&f);
}

/* ---- readers racing a writer ---- */

struct race {
    struct fixture *f;
    atomic_int stop;
    atomic_int bad;
    int64_t expected;
};

static void *race_reader(void *arg)
{
    struct race *r = arg;
    struct store *st = NULL;
    char *err = NULL;
    if (store_open(r->f->dsn, &st, &err)) {
        free(err);
        atomic_fetch_add(&r->bad, 1);
        return NULL;
    }
    for (int i = 0; !atomic_load(&r->stop); i++) {
        struct store_token_query q = query(r->f, "race", i % 2 ? STORE_SORT_NAME : STORE_SORT_CREATED_AT, i % 3 == 0);
        q.page.limit = 100;
        struct store_token_list l;
        if (store_token_list(st, &q, &l) != KH_OK) {
            atomic_fetch_add(&r->bad, 1);
            continue;
        }
        int ok = l.total == r->expected && (int64_t)l.n == r->expected;
        for (size_t k = 0; k < l.n; k++)
            ok &= strcasestr(l.items[k].name, "race") != NULL && l.items[k].revoked_at == 0;
        if (!ok && atomic_fetch_add(&r->bad, 1) < 3)
            fprintf(stderr, "  race: sort %d total %lld n %zu\n", (int)q.sort, (long long)l.total, l.n);
        store_token_list_free(&l);
    }
    store_close(st);
    return NULL;
}

/* A writer that revokes one matching token and adds another in each
 * transaction keeps the total constant: a reader whose count and page came
 * from different snapshots, or from a column not at its snapshot, would see
 * another total or a revoked row. */
static void readers_racing_a_writer_see_one_snapshot(void)
{
    struct fixture f;
    struct race r = {.f = &f};
    char ids[40][UUID_STR];
    seed(&f);
    for (int i = 0; i < 20; i++)
        add_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "race old", now_us - 5, 0, ids[i]);
    r.expected = 20;
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, race_reader, &r);
    struct store *w = NULL;
    char *err = NULL;
    CHECK_INT(store_open(f.dsn, &w, &err), KH_OK);
    for (int round = 0; round < 60; round++) {
        int slot = round % 20;
        char name[32];
        struct fixture wf = f;
        wf.st = w;
        CHECK_INT(store_begin(w), KH_OK);
        CHECK_INT(store_token_revoke(w, f.admin.org_id, ids[slot], &(struct store_ending){.at = now_us}), KH_OK);
        snprintf(name, sizeof name, "RACE %d", round);
        add_token(&wf, f.admin.user_id, STORE_TOKEN_PAT, name, now_us - round, 0, ids[slot]);
        CHECK_INT(store_commit(w), KH_OK);
        usleep(2000);
    }
    atomic_store(&r.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    store_close(w);
    CHECK_INT(atomic_load(&r.bad), 0);
    struct store_token_query q = query(&f, "race", STORE_SORT_NAME, 0);
    CHECK_INT(compare(f.st, &q), 20);
    fixture_close(&f);
}

/* The names read in chunks (as on PostgreSQL, whose driver holds whole
 * results), here of 7 rows: full builds by id, changes by revision. */
static void memory_lists_read_in_chunks_equal_sql(void)
{
    sql_test_names_chunk(7);
    memory_lists_equal_sql_for_every_filter_sort_and_page();
    memory_lists_see_other_writers_at_once();
    struct fixture f;
    char id[UUID_STR];
    seed(&f);
    struct store_token_query q = query(&f, "batch", STORE_SORT_CREATED_AT, 1);
    CHECK_INT(compare(f.st, &q), 0);
    for (int i = 0; i < 30; i++) { /* 30 changes since the column's revision: five chunks */
        add_token(&f, f.admin.user_id, STORE_TOKEN_PAT, "Batch", now_us + i, 0, id);
        if (i % 4 == 0)
            CHECK_INT(store_token_revoke(f.st, f.admin.org_id, id, &(struct store_ending){.at = now_us}), KH_OK);
    }
    CHECK_INT(compare(f.st, &q), 22);
    /* One transaction's rows (on PostgreSQL they share a revision) across
     * chunk boundaries. */
    CHECK_INT(store_begin(f.st), KH_OK);
    for (int i = 0; i < 20; i++)
        add_token(&f, bob_id, STORE_TOKEN_SAT, "batch in one", now_us + 100 + i % 3, 0, NULL);
    CHECK_INT(store_commit(f.st), KH_OK);
    CHECK_INT(compare(f.st, &q), 42);
    fixture_close(&f);
    sql_test_names_chunk(0);
}

int main(void)
{
    RUN(memory_lists_equal_sql_for_every_filter_sort_and_page);
    RUN(memory_lists_honour_kind_owner_and_expiry);
    RUN(memory_lists_fold_case_as_the_backend_does);
    RUN(memory_lists_see_other_writers_at_once);
    RUN(memory_path_answers_sorted_filtered_lists);
    RUN(readers_racing_a_writer_see_one_snapshot);
    RUN(memory_lists_read_in_chunks_equal_sql);
    return TEST_SUMMARY();
}
