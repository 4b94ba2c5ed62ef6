/* api_keys.c - API keys, v2 (JSON:API, /api/v2/api_keys) and v1
 * (/api/v1/api_key). The key value is stored sealed and shown where Datadog
 * shows it (docs/datadog.md, "Where secrets are shown"): on v2
 * create/get/update and every v1 answer, but never in the v2 list. */
#include "api/internal.h"

#include "auth/credentials.h"
#include "json/jsonw.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/uuid.h"
#include "util/xmalloc.h"

#include <stdlib.h>
#include <string.h>

#define DAY_US (24LL * 3600 * 1000000)

/* One API key as a FullAPIKey (value given) or a PartialAPIKey (value NULL).
 * Reads (get, list) also say, as Datadog's do, whether the key was used in
 * the last 24 hours and when last in the past 90 days (now: the request's
 * time; 0 for answers to writes, which leave these out). */
static json_t *render_api_key(const struct store_api_key *k, const char *value, int64_t now,
                              const struct store_leak *leak)
{
    json_t *attrs = json_pack("{s:s,s:o,s:o,s:s,s:o,s:s,s:b}", "category", k->category ? k->category : "default",
                              "created_at", render_iso_time(k->created_at), "date_last_used",
                              render_iso_time(k->last_used_at), "last4", k->last4, "modified_at",
                              render_iso_time(k->modified_at), "name", k->name, "remote_config_read_enabled",
                              k->remote_config_read_enabled);
    if (value)
        json_object_set_new(attrs, "key", json_string(value));
    if (now) {
        int64_t used = k->last_used_at;
        json_object_set_new(attrs, "used_in_last_24_hours", json_boolean(used && used > now - DAY_US));
        json_object_set_new(attrs, "last_used_date",
                            json_pack("{s:o,s:s}", "timestamp", render_iso_time(used > now - 90 * DAY_US ? used : 0),
                                      "description", "Timestamp of when this key was last used in the past ninety "
                                                     "(90) days, null if no recent usage"));
    }
    return json_pack("{s:s,s:s,s:o,s:{s:o,s:o,s:{s:o}}}", "id", k->id, "type", "api_keys", "attributes", attrs,
                     "relationships", "created_by", render_relationship("users", k->created_by), "modified_by",
                     render_relationship("users", k->modified_by), "leak_information", "data",
                     leak ? json_pack("{s:s,s:s}", "id", k->id, "type", "leaked_keys") : json_null());
}

/* ---- leaked keys (the leak loop, leaks.c) ----
 * A key quarantined after a leak report is shown as Datadog shows a leaked
 * key: relationships.leak_information names a leaked_keys resource (null
 * otherwise, as always), which the answer's `included` holds (LeakedKey:
 * date and leak_source), whatever `include` asked for. A key that leaked
 * nothing answers exactly as before. */

/* render_leaked_key() written into a streaming answer. */
static void write_leaked_key(struct jsonw *w, const struct store_leak *l)
{
    jsonw_raw(w, "{\"id\":");
    jsonw_string(w, l->credential_id);
    jsonw_raw(w, ",\"type\":\"leaked_keys\",\"attributes\":{\"date\":");
    render_write_iso_time(w, l->leaked_at);
    jsonw_raw(w, ",\"leak_source\":");
    if (jsonw_string(w, leak_source_of(l)))
        jsonw_raw(w, "\"\"");
    jsonw_raw(w, "}}");
}

/* The v1 ApiKey object: {created, created_by (the creator's handle), key, name}. */
static json_t *render_api_key_v1(struct api_call *call, const struct store_api_key *k, const char *value)
{
    char created[CLOCK_BUF];
    struct store_user u;
    clock_format_v1(k->created_at, created);
    json_t *o = json_pack("{s:s,s:s,s:s}", "created", created, "key", value, "name", k->name);
    if (store_user_get(call->env->store, k->org_id, k->created_by, &u) == KH_OK) {
        json_object_set_new(o, "created_by", json_string(u.email));
        store_user_clear(&u);
    }
    return o;
}

/* ---- the lists, written straight into the answer (issue 14) ----
 * Building, dumping and freeing a jansson tree a row was most of a list's
 * CPU. These write the bytes json_dumps(..., JSON_COMPACT) gave for the trees
 * above; tests/unit/test_api.c keeps the tree rendering and compares. */

#define LAST_USED_DESCRIPTION                                                                                          \
    "Timestamp of when this key was last used in the past ninety (90) days, null if no recent usage"

/* render_relationship("users", id). KH_EINVAL when id is not UTF-8 (the
 * tree's json_pack failed): the caller cuts the row back. */
static int write_user_relationship(struct jsonw *w, const char *id)
{
    if (!*id) {
        jsonw_raw(w, "{\"data\":null}");
        return KH_OK;
    }
    jsonw_raw(w, "{\"data\":{\"id\":");
    int rc = jsonw_string(w, id);
    jsonw_raw(w, ",\"type\":\"users\"}}");
    return rc;
}

/* One row of the v2 list: the bytes of render_api_key(k, NULL, now). When a
 * string is one jansson refuses (NULL, or not UTF-8), render_api_key()
 * returned NULL and the list left the row out: so does this, returning
 * KH_EINVAL with w cut back to where it was. */
static int write_api_key_row(struct jsonw *w, const struct store_api_key *k, int64_t now, int leaked)
{
    size_t mark = jsonw_len(w);
    int bad = 0;
    jsonw_raw(w, "{\"id\":");
    bad |= jsonw_string(w, k->id);
    jsonw_raw(w, ",\"type\":\"api_keys\",\"attributes\":{\"category\":");
    bad |= jsonw_string(w, k->category ? k->category : "default");
    jsonw_raw(w, ",\"created_at\":");
    render_write_iso_time(w, k->created_at);
    jsonw_raw(w, ",\"date_last_used\":");
    render_write_iso_time(w, k->last_used_at);
    jsonw_raw(w, ",\"last4\":");
    bad |= jsonw_string(w, k->last4);
    jsonw_raw(w, ",\"modified_at\":");
    render_write_iso_time(w, k->modified_at);
    jsonw_raw(w, ",\"name\":");
    bad |= !k->name || jsonw_string(w, k->name);
    jsonw_raw(w, k->remote_config_read_enabled ? ",\"remote_config_read_enabled\":true"
                                               : ",\"remote_config_read_enabled\":false");
    if (now) { /* the usage fields of reads, as render_api_key() adds them */
        int64_t used = k->last_used_at;
        jsonw_raw(w, used && used > now - DAY_US ? ",\"used_in_last_24_hours\":true"
                                                 : ",\"used_in_last_24_hours\":false");
        jsonw_raw(w, ",\"last_used_date\":{\"timestamp\":");
        render_write_iso_time(w, used > now - 90 * DAY_US ? used : 0);
        jsonw_raw(w, ",\"description\":\"" LAST_USED_DESCRIPTION "\"}");
    }
    jsonw_raw(w, "},\"relationships\":{\"created_by\":");
    bad |= write_user_relationship(w, k->created_by);
    jsonw_raw(w, ",\"modified_by\":");
    bad |= write_user_relationship(w, k->modified_by);
    if (leaked) {
        jsonw_raw(w, ",\"leak_information\":{\"data\":{\"id\":");
        bad |= jsonw_string(w, k->id);
        jsonw_raw(w, ",\"type\":\"leaked_keys\"}}}}");
    } else {
        jsonw_raw(w, ",\"leak_information\":{\"data\":null}}}");
    }
    if (bad) {
        jsonw_truncate(w, mark);
        return KH_EINVAL;
    }
    return KH_OK;
}

/* One key of the v1 list: the bytes of render_api_key_v1(), its creator
 * read through the page's memo (creator NULL: not found, no created_by). A
 * name jansson refuses leaves the row out (KH_EINVAL, w cut back); an email
 * it refuses leaves created_by out, as json_object_set_new() of a NULL
 * json_string() did. */
static int write_api_key_v1(struct jsonw *w, const struct store_api_key *k, const char *value,
                            const struct store_user *creator)
{
    size_t mark = jsonw_len(w);
    char created[CLOCK_BUF];
    int bad = 0;
    clock_format_v1(k->created_at, created);
    jsonw_raw(w, "{\"created\":");
    jsonw_string(w, created);
    jsonw_raw(w, ",\"key\":");
    bad |= jsonw_string(w, value);
    jsonw_raw(w, ",\"name\":");
    bad |= !k->name || jsonw_string(w, k->name);
    if (bad) {
        jsonw_truncate(w, mark);
        return KH_EINVAL;
    }
    if (creator && creator->email) {
        size_t field = jsonw_len(w);
        jsonw_raw(w, ",\"created_by\":");
        if (jsonw_string(w, creator->email))
            jsonw_truncate(w, field);
    }
    jsonw_raw(w, "}");
    return KH_OK;
}

/* Decrypts a stored key value into value; logs and returns non-zero when the
 * value does not authenticate under this server secret (wrong secret file or
 * a tampered row). A list passes its opener (kept from one key to the next);
 * one key passes NULL. */
static int unseal_key(struct api_call *call, struct secret_opener *o, const struct store_api_key *k,
                      char value[API_KEY_VALUE_LEN + 1])
{
    int rc = o ? cred_unseal_with(o, call->env->secret, &k->key, value, API_KEY_VALUE_LEN)
               : cred_unseal(call->env->secret, &k->key, value, API_KEY_VALUE_LEN);
    if (rc)
        log_error("api key %s: stored value does not decrypt with this server secret", k->id);
    return rc;
}

static const struct sort_option api_key_sorts[] = {
    {"name", STORE_SORT_NAME},
    {"created_at", STORE_SORT_CREATED_AT},
    {"modified_at", STORE_SORT_MODIFIED_AT},
    {"last4", STORE_SORT_LAST4},
};

/* Reads `include` (a comma list of created_by, modified_by). */
static int include_or_reply(struct api_call *call, int *created_by, int *modified_by)
{
    const char *items[8];
    char *scratch = NULL;
    int n = query_get_list(&call->query, "include", items, 8, &scratch);
    *created_by = *modified_by = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(items[i], "created_by") == 0) {
            *created_by = 1;
        } else if (strcmp(items[i], "modified_by") == 0) {
            *modified_by = 1;
        } else {
            reply_error(call, 400, "Invalid value for include: '%.64s' (expected created_by, modified_by)", items[i]);
            free(scratch);
            return -1;
        }
    }
    free(scratch);
    if (n < 0) {
        reply_error(call, 400, "Invalid value for include: too many values");
        return -1;
    }
    return 0;
}

/* Fills the filter part of an API key query from the query string. */
static int api_key_filters_or_reply(struct api_call *call, struct store_api_key_query *q)
{
    char msg[256];
    const struct query_string *qs = &call->query;
    q->remote_config = -1;
    if (query_time_range(qs, "filter[created_at]", &q->created, msg, sizeof msg) ||
        query_time_range(qs, "filter[modified_at]", &q->modified, msg, sizeof msg) ||
        query_bool(qs, "filter[remote_config_read_enabled]", &q->remote_config, msg, sizeof msg)) {
        reply_error(call, 400, "%s", msg);
        return -1;
    }
    return filter_or_reply(call, "filter", &q->name_filter) || filter_or_reply(call, "filter[category]", &q->category);
}

void api_keys_list(struct api_call *call)
{
    struct store_api_key_query q;
    struct store_api_key_list list;
    int inc_created, inc_modified;
    memset(&q, 0, sizeof q);
    if (require_perm_or_reply(call, PERM_API_KEYS_READ) || page_or_reply(call, &q.page.limit, &q.page.offset) ||
        sort_or_reply(call, api_key_sorts, 4, &q.sort, &q.desc) || api_key_filters_or_reply(call, &q) ||
        include_or_reply(call, &inc_created, &inc_modified))
        return;
    q.org_id = call->who.org_id;
    int rc = store_api_key_list(call->env->store, &q, &list);
    if (rc) {
        reply_store_error(call, rc);
        return;
    }
    struct render_users users;
    struct jsonw w;
    struct store_leak_list leaks;
    size_t n_leaked = 0;
    leaks_quarantined(call, "api_key", &leaks);
    render_users_init(&users, call->env->store, call->who.org_id);
    jsonw_init(&w);
    jsonw_reserve(&w, 128 + list.n * 680); /* about what a row takes */
    jsonw_raw(&w, "{\"data\":[");
    int first = 1;
    for (size_t i = 0; i < list.n; i++) {
        size_t mark = jsonw_len(&w);
        if (!first)
            jsonw_raw(&w, ",");
        int leaked = leaks_find(&leaks, list.items[i].id) != NULL;
        if (write_api_key_row(&w, &list.items[i], call->now, leaked))
            jsonw_truncate(&w, mark); /* also the comma */
        else
            first = 0, n_leaked += (size_t)leaked;
        /* a row left out still included its users in the tree rendering */
        if (inc_created)
            render_users_include(&users, list.items[i].created_by);
        if (inc_modified)
            render_users_include(&users, list.items[i].modified_by);
    }
    jsonw_raw(&w, "],\"meta\":{\"max_allowed\":");
    jsonw_int(&w, (long long)call->env->cfg->max_api_keys);
    jsonw_raw(&w, ",\"page\":{\"total_filtered_count\":");
    jsonw_int(&w, (long long)list.total);
    jsonw_raw(&w, "}}");
    if (inc_created || inc_modified || n_leaked) {
        jsonw_raw(&w, ",\"included\":[");
        jsonw_rawn(&w, jsonw_text(&users.included), jsonw_len(&users.included));
        int comma = jsonw_len(&users.included) > 0;
        for (size_t i = 0; n_leaked && i < list.n; i++) {
            const struct store_leak *l = leaks_find(&leaks, list.items[i].id);
            if (!l)
                continue;
            if (comma)
                jsonw_raw(&w, ",");
            write_leaked_key(&w, l);
            comma = 1;
        }
        jsonw_raw(&w, "]");
    }
    jsonw_raw(&w, "}");
    store_leak_list_free(&leaks);
    render_users_clear(&users);
    store_api_key_list_free(&list);
    reply_json_text(call, 200, jsonw_steal(&w, NULL));
}

/* Inserts a new API key for the caller's org; answers the error itself and
 * returns non-zero on failure. On success *out holds the row (caller clears)
 * and value the key, to be shown once. */
static int create_key_or_reply(struct api_call *call, const char *name, const char *category, int rc_enabled,
                               struct store_api_key *out, char value[API_KEY_VALUE_LEN + 1])
{
    int64_t count = 0;
    memset(out, 0, sizeof *out);
    int rc = store_api_key_count(call->env->store, call->who.org_id, &count);
    if (rc) {
        reply_store_error(call, rc);
        return rc;
    }
    if (count >= call->env->cfg->max_api_keys) {
        reply_error(call, 400, "API key limit reached: this organization may have at most %ld API keys",
                    call->env->cfg->max_api_keys);
        return KH_EINVAL;
    }
    uuid_generate_ordered(out->id, call->now);
    memcpy(out->org_id, call->who.org_id, UUID_STR);
    out->name = xstrdup(name);
    out->category = xstrdup(category ? category : "default");
    out->remote_config_read_enabled = call->env->cfg->remote_config ? rc_enabled : 0;
    memcpy(out->created_by, call->who.user_id, UUID_STR);
    memcpy(out->modified_by, call->who.user_id, UUID_STR);
    out->created_at = out->modified_at = call->now;
    rc = cred_api_key_create(call->env->store, call->env->secret, out, value);
    if (rc) {
        store_api_key_clear(out);
        reply_store_error(call, rc);
    }
    return rc;
}

void api_keys_create(struct api_call *call)
{
    struct jx jx = {0};
    struct store_api_key key;
    char value[API_KEY_VALUE_LEN + 1];
    if (require_perm_or_reply(call, PERM_API_KEYS_WRITE))
        return;
    json_t *root = body_or_reply(call, &jx);
    if (!root)
        return;
    json_t *data = jx_obj(&jx, root, "", "data", 1);
    jx_type(&jx, data, "data", "api_keys");
    json_t *attrs = jx_obj(&jx, data, "data", "attributes", 1);
    const char *name = jx_str(&jx, attrs, "data.attributes", "name", 1, 1, KH_MAX_NAME_LEN);
    const char *category = jx_str(&jx, attrs, "data.attributes", "category", 0, 1, 64);
    int rc_enabled = jx_bool(&jx, attrs, "data.attributes", "remote_config_read_enabled", 1);
    if (jx.failed)
        reply_jx(call, &jx);
    else if (create_key_or_reply(call, name, category, rc_enabled, &key, value) == KH_OK) {
        api_audit(call, "created", "api_key", key.id);
        reply_json(call, 201, json_pack("{s:o}", "data", render_api_key(&key, value, 0, NULL)));
        store_api_key_clear(&key);
        secret_wipe(value, sizeof value);
    }
    json_decref(root);
}

void api_keys_v1_create(struct api_call *call)
{
    static const char *const allowed[] = {"name", NULL};
    struct jx jx = {0};
    struct store_api_key key;
    char value[API_KEY_VALUE_LEN + 1];
    if (require_perm_or_reply(call, PERM_API_KEYS_WRITE))
        return;
    json_t *root = body_or_reply(call, &jx);
    if (!root)
        return;
    jx_only(&jx, root, allowed);
    const char *name = jx_str(&jx, root, "", "name", 1, 1, KH_MAX_NAME_LEN);
    if (jx.failed)
        reply_jx(call, &jx);
    else if (create_key_or_reply(call, name, NULL, 1, &key, value) == KH_OK) {
        api_audit(call, "created", "api_key", key.id);
        reply_json(call, 200, json_pack("{s:o}", "api_key", render_api_key_v1(call, &key, value)));
        store_api_key_clear(&key);
        secret_wipe(value, sizeof value);
    }
    json_decref(root);
}

/* v1 lists every key of the org with its value, oldest first. The org's key
 * count is capped by max_api_keys, which bounds the answer. */
void api_keys_v1_list(struct api_call *call)
{
    struct store_api_key_query q;
    struct store_api_key_list list;
    if (require_perm_or_reply(call, PERM_API_KEYS_READ))
        return;
    memset(&q, 0, sizeof q);
    q.org_id = call->who.org_id;
    q.remote_config = -1;
    q.sort = STORE_SORT_CREATED_AT;
    q.page.limit = 100000;
    int rc = store_api_key_list(call->env->store, &q, &list);
    if (rc) {
        reply_store_error(call, rc);
        return;
    }
    /* The keys of an org mostly share a few creators: each is read once. */
    struct render_users creators;
    struct secret_opener opener;
    struct jsonw w;
    render_users_init(&creators, call->env->store, call->who.org_id);
    secret_opener_init(&opener);
    jsonw_init(&w);
    /* About what a key takes: also, the buffer seldom grows, so it seldom
     * leaves a copy of the values already written in freed memory. */
    jsonw_reserve(&w, 32 + list.n * 192);
    jsonw_raw(&w, "{\"api_keys\":[");
    int first = 1;
    for (size_t i = 0; i < list.n && !rc; i++) {
        char value[API_KEY_VALUE_LEN + 1];
        const struct store_api_key *k = &list.items[i];
        rc = unseal_key(call, &opener, k, value);
        if (!rc) {
            size_t mark = jsonw_len(&w);
            if (!first)
                jsonw_raw(&w, ",");
            if (write_api_key_v1(&w, k, value, render_users_get(&creators, k->created_by)))
                jsonw_truncate(&w, mark); /* also the comma */
            else
                first = 0;
        }
        secret_wipe(value, sizeof value);
    }
    jsonw_raw(&w, "]}");
    secret_opener_clear(&opener);
    render_users_clear(&creators);
    store_api_key_list_free(&list);
    if (rc) {
        jsonw_free(&w);
        reply_error(call, 500, "A stored API key could not be decrypted with this server's secret");
        return;
    }
    reply_json_text(call, 200, jsonw_steal(&w, NULL));
}

/* Loads an API key of the caller's org by its id (v2 paths) or, when
 * by_value is set, by the key value itself (v1 paths). Answers 404 "API key
 * not found" or a store error and returns non-zero when there is none. */
static int load_key_or_reply(struct api_call *call, const char *param, int by_value, struct store_api_key *k)
{
    int rc = KH_ENOTFOUND;
    memset(k, 0, sizeof *k);
    if (by_value) {
        /* now 0: by its current value only (the answer shows that value) */
        struct auth_env env = {.store = call->env->store, .secret = call->env->secret, .now = 0};
        rc = auth_find_api_key(&env, param, strlen(param), k);
        if (rc == AUTH_INVALID)
            rc = KH_ENOTFOUND;
    } else if (uuid_valid(param, strlen(param))) {
        rc = store_api_key_get(call->env->store, call->who.org_id, param, k);
    }
    if (!rc && strcmp(k->org_id, call->who.org_id) != 0) {
        store_api_key_clear(k);
        rc = KH_ENOTFOUND;
    }
    if (rc == KH_ENOTFOUND)
        reply_error(call, 404, "API key not found");
    else if (rc)
        reply_store_error(call, rc);
    return rc;
}

/* Answers 200 {"data": FullAPIKey} (v2) with the decrypted value, and the
 * included users when asked; `read` for GetAPIKey (usage fields). */
static void reply_full_key(struct api_call *call, const struct store_api_key *k, int read, int inc_created,
                           int inc_modified)
{
    char value[API_KEY_VALUE_LEN + 1];
    if (unseal_key(call, NULL, k, value)) {
        reply_error(call, 500, "The stored API key could not be decrypted with this server's secret");
        return;
    }
    struct store_leak leak;
    int leaked = leaks_quarantined_one(call, k->id, &leak);
    json_t *body = json_pack("{s:o}", "data", render_api_key(k, value, read ? call->now : 0, leaked ? &leak : NULL));
    secret_wipe(value, sizeof value);
    if (inc_created || inc_modified || leaked) {
        json_t *included = json_array();
        if (inc_created)
            render_include_user(call->env->store, call->who.org_id, included, k->created_by);
        if (inc_modified)
            render_include_user(call->env->store, call->who.org_id, included, k->modified_by);
        if (leaked)
            json_array_append_new(included, render_leaked_key(&leak));
        json_object_set_new(body, "included", included);
    }
    store_leak_clear(&leak);
    reply_json(call, 200, body);
}

void api_keys_get(struct api_call *call)
{
    struct store_api_key k;
    int inc_created, inc_modified;
    if (require_perm_or_reply(call, PERM_API_KEYS_READ) || include_or_reply(call, &inc_created, &inc_modified) ||
        load_key_or_reply(call, call->params[0], 0, &k))
        return;
    reply_full_key(call, &k, 1, inc_created, inc_modified);
    store_api_key_clear(&k);
}

/* Writes the changed key and re-reads it, so the answer shows what was stored. */
static int save_key_or_reply(struct api_call *call, struct store_api_key *k)
{
    memcpy(k->modified_by, call->who.user_id, UUID_STR);
    k->modified_at = call->now;
    int rc = store_api_key_update(call->env->store, k);
    if (rc == KH_ENOTFOUND)
        reply_error(call, 404, "API key not found");
    else if (rc)
        reply_store_error(call, rc);
    else
        api_audit(call, "updated", "api_key", k->id);
    return rc;
}

void api_keys_update(struct api_call *call)
{
    struct jx jx = {0};
    struct store_api_key k;
    json_t *root = NULL;
    if (require_perm_or_reply(call, PERM_API_KEYS_WRITE))
        return;
    json_t *data = data_or_reply(call, &jx, &root, "api_keys", call->params[0], 400,
                                 "Field 'data.id' does not match the API key id in the path");
    json_t *attrs = data ? jx_obj(&jx, data, "data", "attributes", 1) : NULL;
    const char *name = jx_str(&jx, attrs, "data.attributes", "name", 1, 1, KH_MAX_NAME_LEN);
    const char *category = jx_str(&jx, attrs, "data.attributes", "category", 0, 1, 64);
    json_t *rc_field = json_object_get(attrs, "remote_config_read_enabled");
    int rc_enabled = jx_bool(&jx, attrs, "data.attributes", "remote_config_read_enabled", 1);
    if (data && jx.failed)
        reply_jx(call, &jx);
    else if (data && load_key_or_reply(call, call->params[0], 0, &k) == KH_OK) {
        free(k.name);
        k.name = xstrdup(name);
        if (category) {
            free(k.category);
            k.category = xstrdup(category);
        }
        if (rc_field)
            k.remote_config_read_enabled = call->env->cfg->remote_config ? rc_enabled : 0;
        if (save_key_or_reply(call, &k) == KH_OK)
            reply_full_key(call, &k, 0, 0, 0);
        store_api_key_clear(&k);
    }
    json_decref(root);
}

void api_keys_delete(struct api_call *call)
{
    if (require_perm_or_reply(call, PERM_API_KEYS_DELETE))
        return;
    const char *id = call->params[0];
    struct store_ending end = api_ending(call, NULL);
    int rc = uuid_valid(id, strlen(id)) ? store_api_key_delete(call->env->store, call->who.org_id, id, &end)
                                        : KH_ENOTFOUND;
    if (rc == KH_ENOTFOUND) {
        reply_error(call, 404, "API key not found");
    } else if (rc) {
        reply_store_error(call, rc);
    } else {
        api_audit(call, "deleted", "api_key", id);
        reply_empty(call, 204);
    }
}

/* Answers {"api_key": ApiKey} (v1) with the decrypted value. */
static void reply_v1_key(struct api_call *call, const struct store_api_key *k)
{
    char value[API_KEY_VALUE_LEN + 1];
    if (unseal_key(call, NULL, k, value)) {
        reply_error(call, 500, "The stored API key could not be decrypted with this server's secret");
        return;
    }
    reply_json(call, 200, json_pack("{s:o}", "api_key", render_api_key_v1(call, k, value)));
    secret_wipe(value, sizeof value);
}

void api_keys_v1_get(struct api_call *call)
{
    struct store_api_key k;
    if (require_perm_or_reply(call, PERM_API_KEYS_READ) || load_key_or_reply(call, call->params[0], 1, &k))
        return;
    reply_v1_key(call, &k);
    store_api_key_clear(&k);
}

void api_keys_v1_update(struct api_call *call)
{
    static const char *const allowed[] = {"name", NULL};
    struct jx jx = {0};
    struct store_api_key k;
    if (require_perm_or_reply(call, PERM_API_KEYS_WRITE))
        return;
    json_t *root = body_or_reply(call, &jx);
    if (!root)
        return;
    jx_only(&jx, root, allowed);
    const char *name = jx_str(&jx, root, "", "name", 1, 1, KH_MAX_NAME_LEN);
    if (jx.failed) {
        reply_jx(call, &jx);
    } else if (load_key_or_reply(call, call->params[0], 1, &k) == KH_OK) {
        free(k.name);
        k.name = xstrdup(name);
        if (save_key_or_reply(call, &k) == KH_OK)
            reply_v1_key(call, &k);
        store_api_key_clear(&k);
    }
    json_decref(root);
}

/* v1 delete answers 200 with the deleted key. */
void api_keys_v1_delete(struct api_call *call)
{
    struct store_api_key k;
    if (require_perm_or_reply(call, PERM_API_KEYS_DELETE) || load_key_or_reply(call, call->params[0], 1, &k))
        return;
    char value[API_KEY_VALUE_LEN + 1];
    struct store_ending end = api_ending(call, NULL);
    int rc = unseal_key(call, NULL, &k, value);
    if (rc) {
        reply_error(call, 500, "The stored API key could not be decrypted with this server's secret");
    } else if ((rc = store_api_key_delete(call->env->store, call->who.org_id, k.id, &end)) != KH_OK) {
        if (rc == KH_ENOTFOUND)
            reply_error(call, 404, "API key not found");
        else
            reply_store_error(call, rc);
    } else {
        api_audit(call, "deleted", "api_key", k.id);
        reply_json(call, 200, json_pack("{s:o}", "api_key", render_api_key_v1(call, &k, value)));
    }
    secret_wipe(value, sizeof value);
    store_api_key_clear(&k);
}
