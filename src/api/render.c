/* render.c - JSON pieces that several resource families share: timestamps in
 * Datadog's two formats, relationships, user, role and permission objects and
 * the `included` lists made of them (for a list, through a memo that reads
 * each user once a page), and the validation of scope lists (used by
 * application keys, PATs and SATs alike). */
#include "api/internal.h"

#include "util/clock.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *render_relationship(const char *type, const char *id)
{
    if (!id || !*id)
        return json_pack("{s:n}", "data");
    return json_pack("{s:{s:s,s:s}}", "data", "id", id, "type", type);
}

json_t *render_iso_time(int64_t us)
{
    char buf[CLOCK_BUF];
    if (!us)
        return json_null();
    clock_format_iso(us, buf);
    return json_string(buf);
}

json_t *render_rfc3339(int64_t us, int trim)
{
    char buf[CLOCK_BUF];
    if (!us)
        return json_null();
    clock_format_rfc3339(us, trim, buf);
    return json_string(buf);
}

const char *render_user_status(const struct store_user *u)
{
    return u->disabled ? "Disabled" : u->verified ? "Active" : "Pending";
}

json_t *render_user(struct store *st, const struct store_user *u)
{
    json_t *roles = json_array();
    struct store_strlist ids;
    if (store_user_roles(st, u->id, &ids) == KH_OK) {
        for (size_t i = 0; i < ids.n; i++)
            json_array_append_new(roles, json_pack("{s:s,s:s}", "id", ids.items[i], "type", "roles"));
        store_strlist_free(&ids);
    }
    /* Datadog shows Gravatar's image for the email. */
    char md5[33], icon[96];
    secret_md5_hex(u->email, strlen(u->email), md5);
    snprintf(icon, sizeof icon, "https://secure.gravatar.com/avatar/%s?s=48&d=retro", md5);
    json_t *attrs = json_pack("{s:[],s:o,s:b,s:s,s:s,s:s,s:n,s:b,s:o,s:o,s:b,s:s,s:o,s:s,s:b}",
                              "allowed_login_methods", "created_at", render_iso_time(u->created_at), "disabled",
                              u->disabled, "email", u->email, "handle", u->service_account ? u->id : u->email, "icon",
                              icon, "last_login_time", "mfa_enabled", 0, "modified_at",
                              render_iso_time(u->modified_at), "name", u->name ? json_string(u->name) : json_null(),
                              "service_account", u->service_account, "status", render_user_status(u), "title",
                              u->title ? json_string(u->title) : json_null(), "uuid", u->id, "verified", u->verified);
    return json_pack("{s:s,s:s,s:o,s:{s:{s:o},s:o}}", "id", u->id, "type", "users", "attributes", attrs,
                     "relationships", "roles", "data", roles, "org", render_relationship("orgs", u->org_id));
}

/* Datadog's own CLI mints tokens with over 300 scopes: the whole catalogue. */
#define MAX_SCOPES 512

json_t *render_permission(size_t i)
{
    const struct permission *p = perm_scope_get((int)i);
    return json_pack("{s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s,s:[],s:b}}", "id", p->id, "type", "permissions",
                     "attributes", "created", p->created, "description", p->description, "display_name",
                     p->display_name, "display_type", p->display_type, "group_name", p->group, "name", p->name,
                     "name_aliases", "restricted", p->restricted);
}

/* [{id, type: permissions}] of a role's permissions. */
static json_t *role_permission_refs(struct store *st, const char *role_id)
{
    struct store_strlist names;
    json_t *arr = json_array();
    if (store_role_permissions(st, role_id, &names) == KH_OK) {
        for (size_t i = 0; i < names.n; i++) {
            int idx = perm_find(names.items[i]);
            if (idx >= 0)
                json_array_append_new(arr, json_pack("{s:s,s:s}", "id", perm_get((size_t)idx)->id, "type",
                                                     "permissions"));
        }
        store_strlist_free(&names);
    }
    return arr;
}

json_t *render_role(struct store *st, const struct store_role *r, int with_count)
{
    json_t *attrs = json_pack("{s:o,s:o,s:s,s:b}", "created_at", render_iso_time(r->created_at), "modified_at",
                              render_iso_time(r->modified_at), "name", r->name, "managed", r->managed);
    if (with_count)
        json_object_set_new(attrs, "user_count", json_integer(r->user_count));
    json_t *receives = r->receives ? json_loads(r->receives, 0, NULL) : NULL;
    if (json_is_array(receives))
        json_object_set_new(attrs, "receives_permissions_from", receives);
    else
        json_decref(receives);
    return json_pack("{s:s,s:s,s:o,s:{s:{s:o}}}", "id", r->id, "type", "roles", "attributes", attrs, "relationships",
                     "permissions", "data", role_permission_refs(st, r->id));
}

/* Non-zero when included already holds the object (type, id). */
static int included_has(json_t *included, const char *type, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(included, i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "type")), type) == 0 &&
            strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
            return 1;
    }
    return 0;
}

void render_include_user(struct store *st, const char *org_id, json_t *included, const char *user_id)
{
    struct store_user u;
    if (!*user_id || included_has(included, "users", user_id))
        return;
    if (store_user_get(st, org_id, user_id, &u) == KH_OK) {
        json_array_append_new(included, render_user(st, &u));
        store_user_clear(&u);
    }
}

void render_write_iso_time(struct jsonw *w, int64_t us)
{
    char buf[CLOCK_BUF];
    if (!us) {
        jsonw_null(w);
        return;
    }
    clock_format_iso(us, buf);
    /* digits, '-', ':', '.', '+' and 'T': nothing to escape or check */
    jsonw_rawn(w, "\"", 1);
    jsonw_raw(w, buf);
    jsonw_rawn(w, "\"", 1);
}

/* A JSON string or, for NULL, null: a field render_user() gives as
 * `s ? json_string(s) : json_null()`. KH_EINVAL when s is not UTF-8. */
static int write_string_or_null(struct jsonw *w, const char *s)
{
    if (!s) {
        jsonw_null(w);
        return KH_OK;
    }
    return jsonw_string(w, s);
}

/* The bytes of render_user(st, u), written into w for a list's included
 * users (issue 14). KH_EINVAL, with w cut back, where render_user() returned
 * NULL: a string of the user that is not UTF-8. A role id jansson refuses
 * leaves that role out, as json_array_append_new() of a failed json_pack
 * did. */
static int write_user(struct jsonw *w, struct store *st, const struct store_user *u)
{
    size_t mark = jsonw_len(w);
    char md5[33], icon[96];
    int bad = 0;
    secret_md5_hex(u->email, strlen(u->email), md5);
    snprintf(icon, sizeof icon, "https://secure.gravatar.com/avatar/%s?s=48&d=retro", md5);
    jsonw_raw(w, "{\"id\":");
    bad |= jsonw_string(w, u->id);
    jsonw_raw(w, ",\"type\":\"users\",\"attributes\":{\"allowed_login_methods\":[],\"created_at\":");
    render_write_iso_time(w, u->created_at);
    jsonw_raw(w, u->disabled ? ",\"disabled\":true,\"email\":" : ",\"disabled\":false,\"email\":");
    bad |= jsonw_string(w, u->email);
    jsonw_raw(w, ",\"handle\":");
    bad |= jsonw_string(w, u->service_account ? u->id : u->email);
    jsonw_raw(w, ",\"icon\":");
    jsonw_raw(w, "\"");
    jsonw_raw(w, icon); /* an ASCII URL with hex digits: nothing to escape */
    jsonw_raw(w, "\",\"last_login_time\":null,\"mfa_enabled\":false,\"modified_at\":");
    render_write_iso_time(w, u->modified_at);
    jsonw_raw(w, ",\"name\":");
    bad |= write_string_or_null(w, u->name);
    jsonw_raw(w, u->service_account ? ",\"service_account\":true,\"status\":"
                                    : ",\"service_account\":false,\"status\":");
    jsonw_string(w, render_user_status(u));
    jsonw_raw(w, ",\"title\":");
    bad |= write_string_or_null(w, u->title);
    jsonw_raw(w, ",\"uuid\":");
    bad |= jsonw_string(w, u->id);
    jsonw_raw(w, u->verified ? ",\"verified\":true},\"relationships\":{\"roles\":{\"data\":["
                             : ",\"verified\":false},\"relationships\":{\"roles\":{\"data\":[");
    if (bad) { /* before the roles: no need to read them */
        jsonw_truncate(w, mark);
        return KH_EINVAL;
    }
    struct store_strlist ids;
    if (store_user_roles(st, u->id, &ids) == KH_OK) {
        int first = 1;
        for (size_t i = 0; i < ids.n; i++) {
            size_t role_mark = jsonw_len(w);
            jsonw_raw(w, first ? "{\"id\":" : ",{\"id\":");
            if (jsonw_string(w, ids.items[i])) {
                jsonw_truncate(w, role_mark);
                continue;
            }
            jsonw_raw(w, ",\"type\":\"roles\"}");
            first = 0;
        }
        store_strlist_free(&ids);
    }
    jsonw_raw(w, "]},\"org\":");
    if (!u->org_id[0]) { /* render_relationship("orgs", ...) */
        jsonw_raw(w, "{\"data\":null}}}");
        return KH_OK;
    }
    jsonw_raw(w, "{\"data\":{\"id\":");
    if (jsonw_string(w, u->org_id)) {
        jsonw_truncate(w, mark);
        return KH_EINVAL;
    }
    jsonw_raw(w, ",\"type\":\"orgs\"}}}}");
    return KH_OK;
}

void render_users_init(struct render_users *m, struct store *st, const char *org_id)
{
    memset(m, 0, sizeof *m);
    m->st = st;
    m->org_id = org_id;
    jsonw_init(&m->included);
}

void render_users_clear(struct render_users *m)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->items[i].found)
            store_user_clear(&m->items[i].u);
    free(m->items);
    jsonw_free(&m->included);
    memset(m, 0, sizeof *m);
}

/* The memo's entry for user_id: found, or read from the store and added.
 * NULL when the store failed (nothing remembered) or user_id is longer than
 * a user id can be (no user has it). A page names few distinct users, so a
 * linear search is enough. */
static struct render_user_seen *users_seen(struct render_users *m, const char *user_id)
{
    if (strnlen(user_id, UUID_STR) == UUID_STR)
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->items[i].id, user_id) == 0)
            return &m->items[i];
    struct store_user u;
    int rc = store_user_get(m->st, m->org_id, user_id, &u);
    if (rc != KH_OK && rc != KH_ENOTFOUND)
        return NULL;
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 4;
        m->items = xrealloc(m->items, m->cap * sizeof *m->items);
    }
    struct render_user_seen *e = &m->items[m->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", user_id);
    e->found = rc == KH_OK;
    if (e->found)
        e->u = u; /* the memo owns the row's strings now */
    return e;
}

const struct store_user *render_users_get(struct render_users *m, const char *user_id)
{
    struct render_user_seen *e = users_seen(m, user_id);
    return e && e->found ? &e->u : NULL;
}

void render_users_include(struct render_users *m, const char *user_id)
{
    if (!*user_id)
        return;
    struct render_user_seen *e = users_seen(m, user_id);
    if (!e || e->included)
        return;
    e->included = 1;
    if (!e->found) /* unknown: render_include_user appended nothing either */
        return;
    size_t mark = jsonw_len(&m->included);
    if (mark)
        jsonw_raw(&m->included, ",");
    if (write_user(&m->included, m->st, &e->u)) /* not renderable: nothing, as before */
        jsonw_truncate(&m->included, mark);
}

void render_include_user_roles(struct store *st, const char *org_id, json_t *included, const char *user_id)
{
    struct store_strlist ids;
    if (store_user_roles(st, user_id, &ids) != KH_OK)
        return;
    for (size_t i = 0; i < ids.n; i++) {
        struct store_role r;
        if (included_has(included, "roles", ids.items[i]))
            continue;
        if (store_role_get(st, org_id, ids.items[i], &r) == KH_OK)
            json_array_append_new(included, render_role(st, &r, 0));
        store_role_clear(&r);
    }
    store_strlist_free(&ids);
}

char *scopes_or_reply(struct api_call *call, struct jx *jx, json_t *scopes, const char *path, int required,
                      struct permset *set)
{
    permset_clear(set);
    if (!scopes) {
        if (required)
            jx_fail(jx, "Missing required field '%s'", path);
        reply_jx(call, jx);
        return NULL;
    }
    if (!json_is_array(scopes)) {
        jx_fail(jx, "Field '%s' must be an array of permission names", path);
        reply_jx(call, jx);
        return NULL;
    }
    if (json_array_size(scopes) == 0 || json_array_size(scopes) > MAX_SCOPES) {
        jx_fail(jx, "Field '%s' must list between 1 and %d permission names", path, MAX_SCOPES);
        reply_jx(call, jx);
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(scopes, i, v)
    {
        int idx = json_is_string(v) ? perm_find(json_string_value(v)) : -1;
        if (!json_is_string(v)) {
            jx_fail(jx, "Field '%s[%zu]' must be a string", path, i);
        } else if (idx < 0) {
            jx_fail(jx, "Invalid scope '%.100s' in '%s': not a known permission name", json_string_value(v), path);
        } else if (!permset_has(set, idx)) {
            permset_add(set, idx);
            json_array_append(out, v);
        }
        if (jx->failed) {
            json_decref(out);
            reply_jx(call, jx);
            return NULL;
        }
    }
    /* Nobody grants what they do not hold: a scope beyond the caller's own
     * effective permissions (role, narrowed by its own scopes) is refused. */
    int missing = permset_first_missing(set, &call->who.perms);
    if (missing >= 0) {
        reply_error(call, 403, "Forbidden: cannot grant scope '%s' that the caller does not hold", perm_name(missing));
        json_decref(out);
        return NULL;
    }
    char *text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    return text;
}
