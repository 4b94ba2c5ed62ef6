/* store.c - the store_*() wrappers, the only callers of store_ops methods:
 * one place for backend selection (by the --db value's scheme), for
 * capability checks, for the fault-injection hook used by unit tests, and the
 * row destructors. */
#include "store/store.h"

#include "store/sql.h"
#include "util/buf.h"
#include "util/filelock.h"
#include "util/metrics.h"

#include "util/xmalloc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Atomic(store_fault_fn) fault_hook;

void store_set_fault_hook(store_fault_fn fn)
{
    atomic_store(&fault_hook, fn);
}

static int fault(const char *op)
{
    store_fault_fn fn = atomic_load(&fault_hook);
    return fn ? fn(op) : KH_OK;
}

/* The backends, by the scheme of the --db value. */
static const struct backend {
    const char *name;
    const char *const prefixes[3]; /* what a dsn of it starts with; "" matches anything */
    int (*open)(const char *dsn, struct store **out, char **err);
    int (*exists)(const char *dsn, char **err);
    int (*restore)(const char *dest, const char *src, char **err);
    int (*hold)(const char *dsn, int exclusive, int *hold, char **err);
} backends[] = {
    {"postgres", {"postgres://", "postgresql://"}, store_pg_open, store_pg_exists, NULL, NULL},
    {"sqlite", {"sqlite:", "memory:", ""}, store_sqlite_open, store_sqlite_exists, store_sqlite_replace,
     store_sqlite_hold},
};

static const struct backend *backend_of(const char *dsn)
{
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        for (size_t j = 0; j < 3 && backends[i].prefixes[j]; j++)
            if (strncmp(dsn, backends[i].prefixes[j], strlen(backends[i].prefixes[j])) == 0)
                return &backends[i];
    return &backends[sizeof backends / sizeof backends[0] - 1];
}

const char *store_backend_name(const char *dsn)
{
    return backend_of(dsn)->name;
}

int store_open(const char *dsn, struct store **out, char **err)
{
    *out = NULL;
    *err = NULL;
    int rc = backend_of(dsn)->open(dsn, out, err);
    if (!rc && (*out)->ops->version != STORE_OPS_VERSION) {
        *err = xasprintf("the %s backend was built for another store interface", (*out)->ops->name);
        store_close(*out);
        *out = NULL;
        rc = KH_ESTORE;
    }
    return rc;
}

int store_exists(const char *dsn, char **err)
{
    *err = NULL;
    return backend_of(dsn)->exists(dsn, err);
}

int store_restore(const char *dest, const char *src, char **err)
{
    const struct backend *b = backend_of(dest);
    *err = NULL;
    if (!b->restore || backend_of(src) != b) {
        *err = xasprintf("restore works on %s files only", "SQLite");
        return KH_ENOTSUP;
    }
    return b->restore(dest, src, err);
}

int store_hold(const char *dsn, int exclusive, int *hold, char **err)
{
    const struct backend *b = backend_of(dsn);
    *hold = -1;
    *err = NULL;
    return b->hold ? b->hold(dsn, exclusive, hold, err) : KH_OK;
}

void store_unhold(int hold)
{
    filelock_release(hold);
}

int store_can(const struct store *st, unsigned mask)
{
    return (st->caps & mask) == mask;
}

void store_memory_dsn(char *out, size_t len)
{
    char name[33];
    secret_random_hex(name, 32);
    name[32] = '\0';
    snprintf(out, len, "memory:%s", name);
}

int store_dsn_in_memory(const char *dsn)
{
    return strncmp(dsn, "memory:", 7) == 0;
}

void store_close(struct store *st)
{
    if (st)
        st->ops->close(st);
}

/* Store failures by kind, for metrics (util/metrics.h): NULL until
 * registered, and counting is then a no-op. */
static struct metric_family *store_errors;

void store_metrics_register(void)
{
    if (store_errors)
        return; /* once per process */
    store_errors = metrics_register("keyhold_store_errors_total",
                                    "Store operations that failed: busy (locked past the timeout) or failed "
                                    "(unreachable, I/O, full).",
                                    METRIC_COUNTER, "kind", 2, NULL, 0);
    metrics_label(store_errors, 0, (const char *const[]){"busy"});
    metrics_label(store_errors, 1, (const char *const[]){"failed"});
}

static int counted(int rc)
{
    if (rc == KH_EBUSY || rc == KH_ESTORE)
        metrics_add(store_errors, rc == KH_EBUSY ? 0 : 1, 1);
    return rc;
}

/* Defines store_NAME(st, ...) forwarding to st->ops->NAME after the fault
 * hook has had its say. */
#define STORE_WRAP(name, params, args)                                                                                 \
    int store_##name params                                                                                            \
    {                                                                                                                  \
        int rc = fault(#name);                                                                                         \
        return counted(rc ? rc : st->ops->name args);                                                                  \
    }

/* The same for a method that needs a capability: KH_ENOTSUP without it. */
#define STORE_WRAP_CAP(name, cap, params, args)                                                                        \
    int store_##name params                                                                                            \
    {                                                                                                                  \
        if (!store_can(st, cap))                                                                                       \
            return KH_ENOTSUP;                                                                                         \
        int rc = fault(#name);                                                                                         \
        return counted(rc ? rc : st->ops->name args);                                                                  \
    }

/* The same for methods with an out-parameter, which is zeroed first so the
 * contract (a failed call leaves the out-row safe to clear) holds even when
 * the fault hook answers instead of the backend. */
#define STORE_WRAP_OUT(name, params, args, out)                                                                        \
    int store_##name params                                                                                            \
    {                                                                                                                  \
        memset(out, 0, sizeof *(out));                                                                                 \
        int rc = fault(#name);                                                                                         \
        return counted(rc ? rc : st->ops->name args);                                                                  \
    }

STORE_WRAP(begin, (struct store * st), (st))
STORE_WRAP(commit, (struct store * st), (st))
STORE_WRAP(rollback, (struct store * st), (st))
STORE_WRAP_OUT(meta_get, (struct store * st, const char *key, char **value),
               (st, key, value), value)
STORE_WRAP(meta_set, (struct store * st, const char *key, const char *value), (st, key, value))
STORE_WRAP(org_insert, (struct store * st, const struct store_org *org), (st, org))
STORE_WRAP_OUT(org_get, (struct store * st, const char *id, struct store_org *out),
               (st, id, out), out)
STORE_WRAP_OUT(org_count, (struct store * st, int64_t *count),
               (st, count), count)
STORE_WRAP_OUT(org_ids, (struct store * st, struct store_strlist *out), (st, out), out)
STORE_WRAP(user_insert, (struct store * st, const struct store_user *user), (st, user))
STORE_WRAP_OUT(user_get, (struct store * st, const char *org_id, const char *id, struct store_user *out),
               (st, org_id, id, out), out)
STORE_WRAP(role_insert, (struct store * st, const struct store_role *role), (st, role))
STORE_WRAP_OUT(role_get, (struct store * st, const char *org_id, const char *id, struct store_role *out),
               (st, org_id, id, out), out)
STORE_WRAP(role_permission_add, (struct store * st, const char *role_id, const char *permission),
           (st, role_id, permission))
STORE_WRAP(user_role_add, (struct store * st, const char *user_id, const char *role_id), (st, user_id, role_id))
STORE_WRAP_OUT(user_permissions, (struct store * st, const char *user_id, struct store_strlist *out),
               (st, user_id, out), out)
STORE_WRAP_OUT(user_roles, (struct store * st, const char *user_id, struct store_strlist *out),
               (st, user_id, out), out)
STORE_WRAP_OUT(user_list, (struct store * st, const struct store_user_query *q, struct store_user_list *out),
               (st, q, out), out)
STORE_WRAP(user_update, (struct store * st, const struct store_user *user), (st, user))
STORE_WRAP(user_role_remove, (struct store * st, const char *user_id, const char *role_id), (st, user_id, role_id))
STORE_WRAP_OUT(role_list, (struct store * st, const struct store_role_query *q, struct store_role_list *out),
               (st, q, out), out)
STORE_WRAP(role_update, (struct store * st, const struct store_role *role), (st, role))
STORE_WRAP(role_delete, (struct store * st, const char *org_id, const char *id), (st, org_id, id))
STORE_WRAP_OUT(role_permissions, (struct store * st, const char *role_id, struct store_strlist *out), (st, role_id, out),
               out)
STORE_WRAP(role_permission_remove, (struct store * st, const char *role_id, const char *permission),
           (st, role_id, permission))
STORE_WRAP(api_key_update, (struct store * st, const struct store_api_key *key), (st, key))
STORE_WRAP(api_key_delete, (struct store * st, const char *org_id, const char *id, const struct store_ending *end),
           (st, org_id, id, end))
STORE_WRAP_OUT(app_key_get, (struct store * st, const char *org_id, const char *id, struct store_app_key *out),
               (st, org_id, id, out), out)
STORE_WRAP_OUT(app_key_list,
               (struct store * st, const struct store_app_key_query *q, struct store_app_key_list *out),
               (st, q, out), out)
STORE_WRAP(app_key_update, (struct store * st, const struct store_app_key *key), (st, key))
STORE_WRAP(app_key_delete, (struct store * st, const char *org_id, const char *id, const struct store_ending *end),
           (st, org_id, id, end))
STORE_WRAP(app_key_delete_owned, (struct store * st, const char *owner_id, const struct store_ending *end),
           (st, owner_id, end))
STORE_WRAP_OUT(app_key_count, (struct store * st, const char *owner_id, int64_t *count), (st, owner_id, count), count)
STORE_WRAP(token_update, (struct store * st, const struct store_token *tok), (st, tok))
STORE_WRAP(token_revoke_owned, (struct store * st, const char *owner_id, const struct store_ending *end),
           (st, owner_id, end))
STORE_WRAP(token_rotate,
           (struct store * st, const char *org_id, const char *id, const uint8_t hash[SECRET_HASH_LEN],
            int secret_version, int64_t prev_valid_until, int64_t now),
           (st, org_id, id, hash, secret_version, prev_valid_until, now))
STORE_WRAP_OUT(idem_get,
               (struct store * st, const uint8_t key_hash[SECRET_HASH_LEN], int64_t not_before,
                struct store_idempotent *out),
               (st, key_hash, not_before, out), out)
STORE_WRAP(idem_prune, (struct store * st, int64_t not_before), (st, not_before))
STORE_WRAP(idem_put, (struct store * st, const struct store_idempotent *in, int64_t not_before), (st, in, not_before))
STORE_WRAP_CAP(backup, STORE_CAP_BACKUP, (struct store * st, const char *dest, char **err), (st, dest, err))
STORE_WRAP(check, (struct store * st, char **report), (st, report))
STORE_WRAP(reseal, (struct store * st, int table, int version, store_reseal_fn fn, void *arg, int64_t *count),
           (st, table, version, fn, arg, count))
STORE_WRAP_OUT(sealed_sample, (struct store * st, int version, struct store_sealed *out), (st, version, out), out)
STORE_WRAP(secret_versions, (struct store * st, int64_t now, int *versions, size_t max, size_t *n),
           (st, now, versions, max, n))
STORE_WRAP(control, (struct store * st, int op, void *arg), (st, op, arg))
STORE_WRAP_OUT(counts, (struct store * st, char **report), (st, report), report)

int store_ready(struct store *st, const char **why)
{
    *why = "store unreachable"; /* what a failure injected by the fault hook means */
    int rc = fault("ready");
    return counted(rc ? rc : st->ops->ready(st, why));
}
STORE_WRAP(copy_to, (struct store * st, struct store *to), (st, to))
STORE_WRAP(leak_mark, (struct store * st, const struct store_leak *l), (st, l))
STORE_WRAP_OUT(leak_get, (struct store * st, const char *credential_id, struct store_leak *out), (st, credential_id, out),
               out)
STORE_WRAP_OUT(leak_list,
               (struct store * st, const char *org_id, const char *kind, const char *action, int64_t limit,
                struct store_leak_list *out),
               (st, org_id, kind, action, limit, out), out)
STORE_WRAP_OUT(leak_policy_get, (struct store * st, const char *org_id, struct store_leak_policy *out),
               (st, org_id, out), out)
STORE_WRAP(leak_policy_set, (struct store * st, const struct store_leak_policy *p), (st, p))
STORE_WRAP(leak_report_insert, (struct store * st, const struct store_leak_report *r), (st, r))
STORE_WRAP(leak_reports_prune, (struct store * st, int64_t before), (st, before))
STORE_WRAP_CAP(change_stamp, STORE_CAP_CHANGE_STAMP, (struct store * st, struct store_stamp *out), (st, out))
STORE_WRAP(invitation_insert, (struct store * st, const struct store_invitation *inv), (st, inv))
STORE_WRAP_OUT(invitation_get, (struct store * st, const char *org_id, const char *id, struct store_invitation *out),
               (st, org_id, id, out), out)
STORE_WRAP(reset, (struct store * st, const struct store_keep *keep), (st, keep))
STORE_WRAP(audit_insert, (struct store * st, const struct store_audit *e), (st, e))
STORE_WRAP_OUT(audit_list, (struct store * st, int64_t since, int64_t limit, struct store_audit_list *out),
               (st, since, limit, out), out)
STORE_WRAP_OUT(audit_walk, (struct store * st, int64_t after_seq, int64_t limit, struct store_audit_list *out),
               (st, after_seq, limit, out), out)
STORE_WRAP_OUT(audit_page, (struct store * st, const struct store_audit_page *q, struct store_audit_list *out),
               (st, q, out), out)
STORE_WRAP(audit_chain_backlog, (struct store * st), (st))
STORE_WRAP(audit_checkpoint_insert, (struct store * st, const struct store_audit_checkpoint *c), (st, c))
STORE_WRAP_OUT(audit_checkpoint_latest, (struct store * st, struct store_audit_checkpoint *out), (st, out), out)
STORE_WRAP_OUT(audit_checkpoint_walk,
               (struct store * st, int64_t after, int64_t limit, struct store_audit_checkpoint_list *out),
               (st, after, limit, out), out)
STORE_WRAP(touch, (struct store * st, const struct store_touch *items, size_t n, unsigned char *first),
           (st, items, n, first))
STORE_WRAP(usage_add, (struct store * st, const struct store_usage_add *items, size_t n), (st, items, n))
STORE_WRAP_OUT(usage_get, (struct store * st, const char *credential_id, int64_t since_day, struct store_usage *out),
               (st, credential_id, since_day, out), out)
STORE_WRAP(usage_prune, (struct store * st, int64_t before_day), (st, before_day))
STORE_WRAP(api_key_insert, (struct store * st, const struct store_api_key *key), (st, key))
STORE_WRAP_OUT(api_key_get, (struct store * st, const char *org_id, const char *id, struct store_api_key *out),
               (st, org_id, id, out), out)
STORE_WRAP_OUT(api_key_find, (struct store * st, const uint8_t lookup[SECRET_HASH_LEN], struct store_api_key *out),
               (st, lookup, out), out)
STORE_WRAP_OUT(api_key_list, (struct store * st, const struct store_api_key_query *q, struct store_api_key_list *out),
               (st, q, out), out)
STORE_WRAP_OUT(api_key_count, (struct store * st, const char *org_id, int64_t *count),
               (st, org_id, count), count)
STORE_WRAP(app_key_insert, (struct store * st, const struct store_app_key *key), (st, key))
STORE_WRAP_OUT(app_key_find, (struct store * st, const uint8_t lookup[SECRET_HASH_LEN], struct store_app_key *out),
               (st, lookup, out), out)
STORE_WRAP_OUT(api_key_find_previous,
               (struct store * st, const uint8_t lookup[SECRET_HASH_LEN], int64_t now, struct store_api_key *out),
               (st, lookup, now, out), out)
STORE_WRAP_OUT(app_key_find_previous,
               (struct store * st, const uint8_t lookup[SECRET_HASH_LEN], int64_t now, struct store_app_key *out),
               (st, lookup, now, out), out)
STORE_WRAP(key_rotate,
           (struct store * st, int kind, const char *org_id, const char *id, const struct store_sealed *value,
            const char last4[5], const char *modified_by, int64_t prev_valid_until, int64_t now),
           (st, kind, org_id, id, value, last4, modified_by, prev_valid_until, now))
STORE_WRAP(overlap_close, (struct store * st, int kind, const char *id, int64_t when), (st, kind, id, when))
STORE_WRAP(token_insert, (struct store * st, const struct store_token *tok), (st, tok))
STORE_WRAP_OUT(token_get, (struct store * st, const char *id, struct store_token *out),
               (st, id, out), out)
STORE_WRAP_OUT(token_list, (struct store * st, const struct store_token_query *q, struct store_token_list *out),
               (st, q, out), out)
STORE_WRAP(token_revoke, (struct store * st, const char *org_id, const char *id, const struct store_ending *end),
           (st, org_id, id, end))
STORE_WRAP_OUT(history_list, (struct store * st, const struct store_history_query *q, struct store_history_list *out),
               (st, q, out), out)
STORE_WRAP(history_prune, (struct store * st, int64_t before, int64_t limit, int64_t *pruned), (st, before, limit, pruned))

int store_end(struct store *st, int rc)
{
    if (rc) {
        store_rollback(st);
        return rc;
    }
    return store_commit(st);
}

void store_org_clear(struct store_org *o)
{
    if (!o)
        return;
    free(o->name);
    memset(o, 0, sizeof *o);
}

void store_user_clear(struct store_user *u)
{
    if (!u)
        return;
    free(u->email);
    free(u->name);
    free(u->title);
    memset(u, 0, sizeof *u);
}

void store_role_clear(struct store_role *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->receives);
    memset(r, 0, sizeof *r);
}

void store_invitation_clear(struct store_invitation *inv)
{
    if (!inv)
        return;
    free(inv->login_method);
    memset(inv, 0, sizeof *inv);
}

void store_sealed_clear(struct store_sealed *s)
{
    free(s->sealed);
    memset(s, 0, sizeof *s);
}

void store_api_key_clear(struct store_api_key *k)
{
    if (!k)
        return;
    free(k->name);
    free(k->category);
    store_sealed_clear(&k->key);
    memset(k, 0, sizeof *k);
}

void store_app_key_clear(struct store_app_key *k)
{
    if (!k)
        return;
    free(k->name);
    free(k->scopes);
    store_sealed_clear(&k->key);
    memset(k, 0, sizeof *k);
}

void store_token_clear(struct store_token *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->scopes);
    free(t->revoke_reason);
    memset(t, 0, sizeof *t);
}

static void history_row_clear(struct store_history_row *h)
{
    free(h->name);
    free(h->ended_by_email);
    free(h->reason);
    memset(h, 0, sizeof *h);
}

/* Defines a list destructor: clears every row, frees the array, zeroes the list. */
#define STORE_LIST_FREE(fn, list_type, clear)                                                                          \
    void fn(list_type *l)                                                                                              \
    {                                                                                                                  \
        if (!l)                                                                                                        \
            return;                                                                                                    \
        for (size_t i = 0; i < l->n; i++)                                                                              \
            clear(&l->items[i]);                                                                                       \
        free(l->items);                                                                                                \
        memset(l, 0, sizeof *l);                                                                                       \
    }

STORE_LIST_FREE(store_api_key_list_free, struct store_api_key_list, store_api_key_clear)
STORE_LIST_FREE(store_token_list_free, struct store_token_list, store_token_clear)
STORE_LIST_FREE(store_app_key_list_free, struct store_app_key_list, store_app_key_clear)
STORE_LIST_FREE(store_user_list_free, struct store_user_list, store_user_clear)
STORE_LIST_FREE(store_role_list_free, struct store_role_list, store_role_clear)

void store_leak_clear(struct store_leak *l)
{
    if (!l)
        return;
    free(l->url);
    free(l->source);
    memset(l, 0, sizeof *l);
}
STORE_LIST_FREE(store_leak_list_free, struct store_leak_list, store_leak_clear)

static void audit_clear(struct store_audit *e)
{
    (void)e; /* fixed-size fields only */
}
STORE_LIST_FREE(store_audit_list_free, struct store_audit_list, audit_clear)
STORE_LIST_FREE(store_history_list_free, struct store_history_list, history_row_clear)

void store_idempotent_clear(struct store_idempotent *i)
{
    if (!i)
        return;
    free(i->answer.sealed);
    memset(i, 0, sizeof *i);
}

void store_audit_checkpoint_clear(struct store_audit_checkpoint *c)
{
    if (!c)
        return;
    free(c->heads);
    memset(c, 0, sizeof *c);
}
STORE_LIST_FREE(store_audit_checkpoint_list_free, struct store_audit_checkpoint_list, store_audit_checkpoint_clear)

void store_usage_clear(struct store_usage *u)
{
    if (!u)
        return;
    free(u->routes);
    free(u->days);
    memset(u, 0, sizeof *u);
}

/* Appends a length-prefixed field to the hashed bytes. */
static void hash_field(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    buf_add(b, len, sizeof len);
    buf_add(b, s, n);
}

void store_audit_hash(const struct store_audit *e, const uint8_t prev[SECRET_HASH_LEN], uint8_t out[SECRET_HASH_LEN])
{
    struct buf b;
    uint8_t at[8];
    for (int i = 0; i < 8; i++)
        at[i] = (uint8_t)((uint64_t)e->at >> (56 - 8 * i));
    buf_init(&b, 4096);
    buf_add(&b, "keyhold audit event v1", 23); /* with its NUL: the label ends where it says */
    buf_add(&b, prev, SECRET_HASH_LEN);
    buf_add(&b, at, sizeof at);
    hash_field(&b, e->org_id);
    hash_field(&b, e->actor_id);
    hash_field(&b, e->action);
    hash_field(&b, e->target_kind);
    hash_field(&b, e->target_id);
    hash_field(&b, e->source);
    secret_sha256(b.p, b.len, out);
    buf_free(&b);
}

void store_strlist_free(struct store_strlist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* ---- webhooks (docs/api/webhooks.md) ---- */

STORE_WRAP(webhook_insert, (struct store * st, const struct store_webhook *w), (st, w))
STORE_WRAP_OUT(webhook_get, (struct store * st, const char *org_id, const char *id, struct store_webhook *out),
               (st, org_id, id, out), out)
STORE_WRAP_OUT(webhook_list,
               (struct store * st, const char *org_id, const struct store_page *page, struct store_webhook_list *out),
               (st, org_id, page, out), out)
STORE_WRAP(webhook_update, (struct store * st, const struct store_webhook *w), (st, w))
STORE_WRAP(webhook_delete, (struct store * st, const char *org_id, const char *id), (st, org_id, id))
STORE_WRAP(event_enqueue, (struct store * st, const struct store_event *e, int64_t *fanned), (st, e, fanned))
STORE_WRAP_OUT(delivery_claim,
               (struct store * st, int64_t now, int64_t lease_until, const char *lease, int64_t limit,
                struct store_delivery_list *out),
               (st, now, lease_until, lease, limit, out), out)
STORE_WRAP(delivery_record, (struct store * st, const char *lease, const struct store_delivery_outcome *o),
           (st, lease, o))
STORE_WRAP(delivery_release, (struct store * st, const char *lease), (st, lease))
STORE_WRAP_OUT(delivery_list,
               (struct store * st, const char *webhook_id, const struct store_page *page,
                struct store_delivery_list *out),
               (st, webhook_id, page, out), out)
STORE_WRAP_OUT(attempt_list,
               (struct store * st, const char *webhook_id, const struct store_page *page,
                struct store_attempt_list *out),
               (st, webhook_id, page, out), out)
STORE_WRAP_OUT(expiry_candidates,
               (struct store * st, int notice, int64_t mask, int64_t from, int64_t to, int64_t limit,
                struct store_token_list *out),
               (st, notice, mask, from, to, limit, out), out)
STORE_WRAP_OUT(webhook_subscribed, (struct store * st, const char *org_id, int64_t mask, int64_t *count),
               (st, org_id, mask, count), count)
STORE_WRAP(expiry_notice_put, (struct store * st, const char *token_id, int notice, int64_t now, int *inserted),
           (st, token_id, notice, now, inserted))
STORE_WRAP_OUT(ended_by_owner,
               (struct store * st, const char *org_id, const char *owner_id, int64_t from, int64_t to,
                const char *reason, struct store_ended_list *out),
               (st, org_id, owner_id, from, to, reason, out), out)
STORE_WRAP_OUT(ended_get, (struct store * st, const char *org_id, const char *id, struct store_ended *out),
               (st, org_id, id, out), out)
STORE_WRAP(webhook_prune, (struct store * st, int64_t before), (st, before))

void store_webhook_clear(struct store_webhook *w)
{
    if (!w)
        return;
    free(w->name);
    free(w->url);
    free(w->secret.sealed);
    memset(w, 0, sizeof *w);
}

void store_webhook_list_free(struct store_webhook_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        store_webhook_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void store_delivery_clear(struct store_delivery *d)
{
    if (!d)
        return;
    free(d->body);
    free(d->last_error);
    free(d->url);
    free(d->secret.sealed);
    memset(d, 0, sizeof *d);
}

void store_delivery_list_free(struct store_delivery_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        store_delivery_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void store_attempt_list_free(struct store_attempt_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].error);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void store_ended_clear(struct store_ended *e)
{
    if (!e)
        return;
    free(e->name);
    memset(e, 0, sizeof *e);
}

void store_ended_list_free(struct store_ended_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        store_ended_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}
