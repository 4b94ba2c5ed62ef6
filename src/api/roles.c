/* roles.c - /api/v2/roles and /api/v2/permissions: roles hold permissions,
 * users hold roles, and a user's permissions are the union over its roles
 * (narrowed per request by the scopes of the credential used). Datadog's
 * three managed roles follow the catalogue and are not changed through the
 * API; they can be cloned into roles that can. */
#include "api/internal.h"

#include "auth/provision.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int load_role_or_reply(struct api_call *call, struct store_role *r)
{
    const char *id = call->params[0];
    int rc = uuid_valid(id, strlen(id)) ? store_role_get(call->env->store, call->who.org_id, id, r) : KH_ENOTFOUND;
    if (rc)
        memset(r, 0, sizeof *r);
    if (rc == KH_ENOTFOUND)
        reply_error(call, 404, "Role %s not found", id);
    else if (rc)
        reply_store_error(call, rc);
    return rc;
}

static const struct sort_option role_sorts[] = {
    {"name", STORE_SORT_NAME},
    {"modified_at", STORE_SORT_MODIFIED_AT},
    {"user_count", STORE_SORT_USER_COUNT},
};

void roles_list(struct api_call *call)
{
    struct store_role_query q;
    struct store_role_list list;
    char *scratch = NULL;
    memset(&q, 0, sizeof q);
    if (require_perm_or_reply(call, PERM_USER_ACCESS_READ) || page_or_reply(call, &q.page.limit, &q.page.offset) ||
        sort_or_reply(call, role_sorts, 3, &q.sort, &q.desc) || filter_or_reply(call, "filter", &q.filter))
        return;
    int n = query_get_list(&call->query, "filter[id]", q.ids, STORE_MAX_IDS, &scratch);
    if (n < 0) {
        reply_error(call, 400, "Invalid value for filter[id]: at most %d role ids", STORE_MAX_IDS);
        free(scratch);
        return;
    }
    q.n_ids = (size_t)n;
    q.org_id = call->who.org_id;
    int rc = store_role_list(call->env->store, &q, &list);
    free(scratch);
    if (rc) {
        reply_store_error(call, rc);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < list.n; i++)
        json_array_append_new(data, render_role(call->env->store, &list.items[i], 1));
    reply_json(call, 200,
               json_pack("{s:o,s:{s:{s:I,s:I}}}", "data", data, "meta", "page", "total_count",
                         (json_int_t)list.total_unfiltered, "total_filtered_count", (json_int_t)list.total));
    store_role_list_free(&list);
}

/* Reads relationships.permissions.data[] (permission ids) into a set; *given
 * tells whether the body had the list at all. Answers 400 and returns -1 on
 * an unknown id. */
static int permission_refs_or_reply(struct api_call *call, struct jx *jx, json_t *data, struct permset *set, int *given)
{
    permset_clear(set);
    json_t *rel = jx_obj(jx, data, "data", "relationships", 0);
    json_t *perms = jx_obj(jx, rel, "data.relationships", "permissions", 0);
    json_t *arr = jx_arr(jx, perms, "data.relationships.permissions", "data", 0);
    *given = arr != NULL;
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item)
    {
        char path[64];
        snprintf(path, sizeof path, "data.relationships.permissions.data[%zu]", i);
        if (!json_is_object(item))
            jx_fail(jx, "Field '%s' must be an object", path);
        const char *id = jx_str(jx, item, path, "id", 1, 1, KH_MAX_ID_LEN);
        if (!jx->failed && perm_find_id(id) < 0)
            jx_fail(jx, "Permission %.64s not found", id);
        if (jx->failed)
            break;
        permset_add(set, perm_find_id(id));
    }
    if (jx->failed) {
        reply_jx(call, jx);
        return -1;
    }
    return 0;
}

/* Managed roles are Datadog's and follow the catalogue: answers `status`
 * (400 where the operation declares it; DeleteRole declares only 403 and
 * 404) and returns -1 for one. */
static int not_managed_or_reply(struct api_call *call, const struct store_role *r, int status)
{
    if (!r->managed)
        return 0;
    reply_error(call, status, "%s is a managed role and cannot be modified; clone it to make a role you can change",
                r->name);
    return -1;
}

/* Reads the optional attributes.receives_permissions_from: managed role
 * names, each at most once. *out is its compact JSON text (caller frees),
 * or NULL when absent or empty. */
static void receives_or_fail(struct jx *jx, json_t *attrs, char **out)
{
    json_t *arr = jx_arr(jx, attrs, "data.attributes", "receives_permissions_from", 0);
    size_t i;
    json_t *v;
    unsigned seen = 0;
    *out = NULL;
    json_array_foreach(arr, i, v)
    {
        int r = json_is_string(v) ? managed_role_find(json_string_value(v)) : -1;
        if (r < 0 || (seen & (1u << r))) {
            jx_fail(jx, "Field 'data.attributes.receives_permissions_from[%zu]' must name a managed role once: "
                        "Datadog Admin Role, Datadog Standard Role or Datadog Read Only Role", i);
            return;
        }
        seen |= 1u << r;
    }
    if (!jx->failed && json_array_size(arr) > 0)
        *out = json_dumps(arr, JSON_COMPACT);
}

/* A role name: not empty, not only whitespace. */
static const char *role_name_or_fail(struct jx *jx, json_t *attrs, int required)
{
    const char *name = jx_str(jx, attrs, "data.attributes", "name", required, 0, KH_MAX_NAME_LEN);
    if (name) {
        const char *p = name;
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            jx_fail(jx, "Role names cannot be only whitespace");
    }
    return name;
}

/* Ends a transaction of role writes. A duplicate name has Datadog's
 * message, with conflict_status: 409 for CloneRole, 400 for CreateRole and
 * UpdateRole (which declare no 409). */
static int finish_role_write(struct api_call *call, int rc, int conflict_status)
{
    int write_rc = rc;
    rc = store_end(call->env->store, rc);
    if (write_rc) {
        if (rc == KH_ECONFLICT)
            reply_error(call, conflict_status, "A role with the same name already exists");
        else if (rc == KH_ENOTFOUND)
            reply_error(call, 404, "Role %s not found", call->params[0]);
        else
            reply_store_error(call, rc);
    } else if (rc) {
        reply_store_error(call, rc); /* the commit failed */
    }
    return rc;
}

/* The read permissions Datadog gives every new role: the catalogue's
 * restricted ones (they can be revoked from a role to restrict it). */
static void add_default_reads(struct permset *set)
{
    for (size_t i = 0; i < perm_count(); i++)
        if (perm_get(i)->restricted)
            permset_add(set, (int)i);
}

/* The catalogue permissions a role holds. */
static int role_permset(struct store *st, const char *role_id, struct permset *out)
{
    struct store_strlist names;
    permset_clear(out);
    int rc = store_role_permissions(st, role_id, &names);
    for (size_t i = 0; !rc && i < names.n; i++) {
        int idx = perm_find(names.items[i]);
        if (idx >= 0 && idx < PERM_CATALOG_COUNT)
            permset_add(out, idx);
    }
    store_strlist_free(&names);
    return rc;
}

/* Makes a custom role of the caller's org named `name` holding `perms`
 * (*receives is taken), in one transaction, and answers 200 with it; a name
 * in use is answered conflict_status. */
static void insert_role_and_reply(struct api_call *call, const char *name, char **receives, const struct permset *perms,
                                  int conflict_status)
{
    struct store_role r = {0};
    uuid_generate(r.id);
    memcpy(r.org_id, call->who.org_id, UUID_STR);
    r.name = xstrdup(name);
    r.receives = *receives;
    *receives = NULL;
    r.created_at = r.modified_at = call->now;
    int rc = store_begin(call->env->store);
    if (!rc)
        rc = store_role_insert(call->env->store, &r);
    if (!rc)
        rc = provision_set_role_permissions(call->env->store, r.id, perms, NULL);
    if (finish_role_write(call, rc, conflict_status) == KH_OK) {
        api_audit(call, "created", "role", r.id);
        reply_json(call, 200, json_pack("{s:o}", "data", render_role(call->env->store, &r, 0)));
    }
    store_role_clear(&r);
}

void roles_create(struct api_call *call)
{
    struct jx jx = {0};
    json_t *root = NULL;
    struct permset set;
    int given;
    char *receives = NULL;
    if (require_perm_or_reply(call, PERM_USER_ACCESS_MANAGE))
        return;
    root = body_or_reply(call, &jx);
    json_t *data = root ? jx_obj(&jx, root, "", "data", 1) : NULL;
    if (data && json_object_get(data, "type"))
        jx_type(&jx, data, "data", "roles");
    json_t *attrs = jx_obj(&jx, data, "data", "attributes", 1);
    const char *name = role_name_or_fail(&jx, attrs, 1);
    receives_or_fail(&jx, attrs, &receives);
    if (root && jx.failed) {
        reply_jx(call, &jx);
    } else if (root && permission_refs_or_reply(call, &jx, data, &set, &given) == 0) {
        add_default_reads(&set);
        insert_role_and_reply(call, name, &receives, &set, 400);
    }
    free(receives);
    json_decref(root);
}

void roles_get(struct api_call *call)
{
    struct store_role r;
    if (require_perm_or_reply(call, PERM_USER_ACCESS_READ) || load_role_or_reply(call, &r))
        return;
    reply_json(call, 200, json_pack("{s:o}", "data", render_role(call->env->store, &r, 1)));
    store_role_clear(&r);
}

void roles_update(struct api_call *call)
{
    struct jx jx = {0};
    json_t *root = NULL;
    struct permset set;
    int given = 0;
    struct store_role r;
    char *receives = NULL;
    if (require_perm_or_reply(call, PERM_USER_ACCESS_MANAGE))
        return;
    json_t *data = data_or_reply(call, &jx, &root, "roles", call->params[0], 422,
                                 "The id attribute in the request body does not match the role_id in the URL");
    json_t *attrs = data ? jx_obj(&jx, data, "data", "attributes", 1) : NULL;
    const char *name = role_name_or_fail(&jx, attrs, 0);
    receives_or_fail(&jx, attrs, &receives);
    int receives_given = json_object_get(attrs, "receives_permissions_from") != NULL;
    if (data && jx.failed)
        reply_jx(call, &jx);
    else if (data && permission_refs_or_reply(call, &jx, data, &set, &given) == 0 &&
             load_role_or_reply(call, &r) == KH_OK) {
        if (!not_managed_or_reply(call, &r, 400)) {
            if (name) {
                free(r.name);
                r.name = xstrdup(name);
            }
            if (receives_given) {
                free(r.receives);
                r.receives = receives;
                receives = NULL;
            }
            r.modified_at = call->now;
            int rc = store_begin(call->env->store);
            if (!rc)
                rc = store_role_update(call->env->store, &r);
            if (!rc && given)
                rc = provision_set_role_permissions(call->env->store, r.id, &set, NULL);
            if (finish_role_write(call, rc, 400) == KH_OK) {
                api_audit(call, "updated", "role", r.id);
                reply_json(call, 200, json_pack("{s:o}", "data", render_role(call->env->store, &r, 1)));
            }
        }
        store_role_clear(&r);
    }
    free(receives);
    json_decref(root);
}

/* POST /api/v2/roles/{id}/clone: a new role (never managed) with the
 * source's permissions and the name given. */
void roles_clone(struct api_call *call)
{
    struct jx jx = {0};
    json_t *root = NULL;
    struct store_role src;
    struct permset set;
    char *receives = NULL;
    if (require_perm_or_reply(call, PERM_USER_ACCESS_MANAGE))
        return;
    json_t *data = data_or_reply(call, &jx, &root, "roles", NULL, 0, NULL);
    json_t *attrs = data ? jx_obj(&jx, data, "data", "attributes", 1) : NULL;
    const char *name = role_name_or_fail(&jx, attrs, 1);
    receives_or_fail(&jx, attrs, &receives);
    if (data && jx.failed) {
        reply_jx(call, &jx);
    } else if (data && load_role_or_reply(call, &src) == KH_OK) {
        int rc = role_permset(call->env->store, src.id, &set);
        if (rc)
            reply_store_error(call, rc);
        else
            insert_role_and_reply(call, name, &receives, &set, 409);
        store_role_clear(&src);
    }
    free(receives);
    json_decref(root);
}

void roles_delete(struct api_call *call)
{
    struct store_role r;
    if (require_perm_or_reply(call, PERM_USER_ACCESS_MANAGE) || load_role_or_reply(call, &r))
        return;
    /* A managed role cannot go either: its name would be free for a custom
     * role with other permissions, handed out by name as the managed one. */
    int rc = not_managed_or_reply(call, &r, 403) ? -1 : store_role_delete(call->env->store, call->who.org_id, r.id);
    store_role_clear(&r);
    if (rc < 0) {
        return;
    } else if (rc == KH_ENOTFOUND) {
        reply_error(call, 404, "Role %s not found", call->params[0]);
    } else if (rc) {
        reply_store_error(call, rc);
    } else {
        api_audit(call, "deleted", "role", call->params[0]);
        reply_empty(call, 204);
    }
}

/* Answers PermissionsResponse with the role's permissions. */
static void reply_role_permissions(struct api_call *call, const char *role_id)
{
    struct store_strlist names;
    int rc = store_role_permissions(call->env->store, role_id, &names);
    if (rc) {
        reply_store_error(call, rc);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < names.n; i++) {
        int idx = perm_find(names.items[i]);
        if (idx >= 0)
            json_array_append_new(data, render_permission((size_t)idx));
    }
    store_strlist_free(&names);
    reply_json(call, 200, json_pack("{s:o}", "data", data));
}

void role_permissions_list(struct api_call *call)
{
    struct store_role r;
    if (require_perm_or_reply(call, PERM_USER_ACCESS_READ) || load_role_or_reply(call, &r))
        return;
    reply_role_permissions(call, r.id);
    store_role_clear(&r);
}

/* Reads {"data":{"id":...,"type":type}} (RelationshipToPermission /
 * RelationshipToUser); returns the id or NULL when answered 400. */
static const char *relationship_id_or_reply(struct api_call *call, struct jx *jx, json_t **root, const char *type)
{
    json_t *data = data_or_reply(call, jx, root, NULL, NULL, 0, NULL);
    if (data && json_object_get(data, "type"))
        jx_type(jx, data, "data", type);
    const char *id = jx_str(jx, data, "data", "id", 1, 1, KH_MAX_ID_LEN);
    if (data && jx->failed) {
        reply_jx(call, jx);
        return NULL;
    }
    return id;
}

static void change_role_permission(struct api_call *call, int add)
{
    struct jx jx = {0};
    json_t *root = NULL;
    struct store_role r;
    if (require_perm_or_reply(call, PERM_USER_ACCESS_MANAGE) || load_role_or_reply(call, &r))
        return;
    const char *id = not_managed_or_reply(call, &r, 400) ? NULL : relationship_id_or_reply(call, &jx, &root, "permissions");
    int idx = id ? perm_find_id(id) : -1;
    if (id && idx < 0) {
        reply_error(call, 400, "Permission %.64s not found", id);
    } else if (id) {
        const char *name = perm_get((size_t)idx)->name;
        int rc = add ? store_role_permission_add(call->env->store, r.id, name)
                     : store_role_permission_remove(call->env->store, r.id, name);
        if (rc && rc != KH_ENOTFOUND) {
            reply_store_error(call, rc);
        } else {
            api_audit(call, add ? "permission_granted" : "permission_revoked", "role", r.id);
            reply_role_permissions(call, r.id);
        }
    }
    store_role_clear(&r);
    json_decref(root);
}

void role_permissions_add(struct api_call *call)
{
    change_role_permission(call, 1);
}

void role_permissions_remove(struct api_call *call)
{
    change_role_permission(call, 0);
}

static void reply_role_users(struct api_call *call, const char *role_id)
{
    struct store_user_query q;
    memset(&q, 0, sizeof q);
    if (user_query_or_reply(call, &q))
        return;
    q.role_id = role_id;
    reply_user_list(call, &q);
}

void role_users_list(struct api_call *call)
{
    struct store_role r;
    if (require_perm_or_reply(call, PERM_USER_ACCESS_READ) || load_role_or_reply(call, &r))
        return;
    reply_role_users(call, r.id);
    store_role_clear(&r);
}

static void change_role_user(struct api_call *call, int add)
{
    struct jx jx = {0};
    json_t *root = NULL;
    struct store_role r;
    struct store_user u;
    if (require_perm_or_reply(call, PERM_USER_ACCESS_MANAGE) || load_role_or_reply(call, &r))
        return;
    const char *id = relationship_id_or_reply(call, &jx, &root, "users");
    int rc = -1;
    if (id)
        rc = uuid_valid(id, strlen(id)) ? store_user_get(call->env->store, call->who.org_id, id, &u) : KH_ENOTFOUND;
    if (rc == KH_ENOTFOUND) {
        reply_error(call, 404, "User %.64s not found", id);
    } else if (rc > 0) {
        reply_store_error(call, rc);
    } else if (rc == 0) {
        rc = add ? store_user_role_add(call->env->store, u.id, r.id) : store_user_role_remove(call->env->store, u.id, r.id);
        if (rc && rc != KH_ENOTFOUND) {
            reply_store_error(call, rc);
        } else {
            api_audit(call, add ? "member_added" : "member_removed", "role", r.id);
            reply_role_users(call, r.id);
        }
        store_user_clear(&u);
    }
    store_role_clear(&r);
    json_decref(root);
}

void role_users_add(struct api_call *call)
{
    change_role_user(call, 1);
}

void role_users_remove(struct api_call *call)
{
    change_role_user(call, 0);
}

/* GET /api/v2/permissions: the catalogue; with include_scopes=true also
 * the permissions that are only scopes (user_access_read). */
void permissions_list(struct api_call *call)
{
    char msg[160];
    int scopes = 0;
    if (require_perm_or_reply(call, PERM_USER_ACCESS_READ))
        return;
    if (query_bool(&call->query, "include_scopes", &scopes, msg, sizeof msg)) {
        reply_error(call, 400, "%s", msg);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < (scopes == 1 ? (size_t)PERM_LIMIT : perm_count()); i++)
        json_array_append_new(data, render_permission(i));
    reply_json(call, 200, json_pack("{s:o}", "data", data));
}

/* What each managed role is for, in the words of Datadog's documentation. */
static const char *const template_descriptions[MANAGED_COUNT] = {
    [MANAGED_ADMIN] = "Read and write access to every asset, plus the sensitive permissions of user, org, key, "
                      "billing and usage management.",
    [MANAGED_STANDARD] = "Read access to every data type and write access to assets, without the sensitive "
                         "management permissions.",
    [MANAGED_READ_ONLY] = "Read access to every data type, without write access.",
};

/* GET /api/v2/roles/templates: the org's managed roles, as the starting
 * points a new role is cloned from (their ids work with CloneRole). */
void roles_templates(struct api_call *call)
{
    if (require_perm_or_reply(call, PERM_USER_ACCESS_READ))
        return;
    json_t *data = json_array();
    for (int m = 0; m < MANAGED_COUNT; m++) {
        struct store_role_query q = {.org_id = call->who.org_id, .name = managed_role_name(m), .page = {.limit = 1}};
        struct store_role_list list;
        int rc = store_role_list(call->env->store, &q, &list);
        if (rc) {
            json_decref(data);
            reply_store_error(call, rc);
            return;
        }
        if (list.n == 1 && list.items[0].managed)
            json_array_append_new(data, json_pack("{s:s,s:s,s:{s:s,s:s}}", "id", list.items[0].id, "type", "roles",
                                                  "attributes", "name", list.items[0].name, "description",
                                                  template_descriptions[m]));
        store_role_list_free(&list);
    }
    reply_json(call, 200, json_pack("{s:o}", "data", data));
}
