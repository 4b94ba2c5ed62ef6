/* invitations.c - /api/v2/user_invitations: inviting users of the org to
 * join it. Nothing is mailed: an invitation is stored, recorded in the audit
 * trail, and can be read back by its id, which is what a test of an
 * invitation flow needs. */
#include "api/internal.h"

#include "util/xmalloc.h"

#include <stdio.h>
#include <string.h>

/* How long an invitation stays valid (Datadog's: two days). */
#define INVITATION_TTL_US (48LL * 3600 * 1000000)
#define MAX_INVITATIONS 100

static json_t *render_invitation(const struct store_invitation *inv)
{
    return json_pack("{s:s,s:s,s:{s:o,s:o,s:s,s:o,s:s},s:{s:o}}", "id", inv->id, "type", "user_invitations",
                     "attributes", "created_at", render_iso_time(inv->created_at), "expires_at",
                     render_iso_time(inv->expires_at), "invite_type", inv->invite_type, "login_method",
                     inv->login_method ? json_string(inv->login_method) : json_null(), "uuid", inv->id,
                     "relationships", "user", render_relationship("users", inv->user_id));
}

/* Reads item i of data[] into *inv (user of the caller's org that can be
 * invited); answers and returns -1 otherwise. */
static int invitation_or_reply(struct api_call *call, struct jx *jx, json_t *item, size_t i,
                               struct store_invitation *inv)
{
    char path[64], rel_path[96], user_path[96], attrs_path[96];
    struct store_user u;
    snprintf(path, sizeof path, "data[%zu]", i);
    snprintf(rel_path, sizeof rel_path, "data[%zu].relationships", i);
    snprintf(user_path, sizeof user_path, "data[%zu].relationships.user", i);
    snprintf(attrs_path, sizeof attrs_path, "data[%zu].attributes", i);
    if (!json_is_object(item))
        jx_fail(jx, "Field '%s' must be an object", path);
    jx_type(jx, item, path, "user_invitations");
    json_t *rel = jx_obj(jx, item, path, "relationships", 1);
    json_t *user = jx_obj(jx, rel, rel_path, "user", 1);
    json_t *ref = jx_obj(jx, user, user_path, "data", 1);
    snprintf(user_path, sizeof user_path, "data[%zu].relationships.user.data", i);
    jx_type(jx, ref, user_path, "users");
    const char *id = jx_str(jx, ref, user_path, "id", 1, 1, KH_MAX_ID_LEN);
    json_t *attrs = jx_obj(jx, item, path, "attributes", 0);
    const char *login = jx_str(jx, attrs, attrs_path, "login_method", 0, 1, 64);
    if (jx->failed) {
        reply_jx(call, jx);
        return -1;
    }
    int rc = uuid_valid(id, strlen(id)) ? store_user_get(call->env->store, call->who.org_id, id, &u) : KH_ENOTFOUND;
    if (rc == KH_ENOTFOUND) {
        reply_error(call, 400, "User %.64s not found", id);
        return -1;
    }
    if (rc) {
        reply_store_error(call, rc);
        return -1;
    }
    int ok = !u.disabled && !u.service_account;
    if (!ok)
        reply_error(call, 400, "User %s cannot be invited: %s", u.id,
                    u.disabled ? "the user is disabled" : "service accounts do not join an org");
    store_user_clear(&u);
    if (!ok)
        return -1;
    memset(inv, 0, sizeof *inv);
    uuid_generate(inv->id);
    memcpy(inv->org_id, call->who.org_id, UUID_STR);
    memcpy(inv->user_id, id, UUID_STR);
    snprintf(inv->invite_type, sizeof inv->invite_type, "%s", "openid_invite"); /* what Datadog answers */
    inv->login_method = login ? xstrdup(login) : NULL;
    inv->created_at = call->now;
    inv->expires_at = call->now + INVITATION_TTL_US;
    return 0;
}

/* POST /api/v2/user_invitations */
void invitations_send(struct api_call *call)
{
    struct jx jx = {0};
    if (require_perm_or_reply(call, PERM_USER_ACCESS_INVITE))
        return;
    json_t *root = body_or_reply(call, &jx);
    json_t *arr = root ? jx_arr(&jx, root, "", "data", 1) : NULL;
    if (arr && (json_array_size(arr) == 0 || json_array_size(arr) > MAX_INVITATIONS))
        jx_fail(&jx, "Field 'data' must list between 1 and %d invitations", MAX_INVITATIONS);
    if (root && jx.failed) {
        reply_jx(call, &jx);
        json_decref(root);
        return;
    }
    if (!root)
        return;
    json_t *out = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item)
    {
        struct store_invitation inv;
        if (invitation_or_reply(call, &jx, item, i, &inv))
            break;
        int rc = store_invitation_insert(call->env->store, &inv);
        if (rc) {
            reply_store_error(call, rc);
            store_invitation_clear(&inv);
            break;
        }
        api_audit(call, "created", "user_invitation", inv.id);
        json_array_append_new(out, render_invitation(&inv));
        store_invitation_clear(&inv);
    }
    /* One refused item refuses them all: the request's transaction is
     * rolled back with its error answer (router.c). */
    if (call->res->status == 0)
        reply_json(call, 201, json_pack("{s:o}", "data", out));
    else
        json_decref(out);
    json_decref(root);
}

/* GET /api/v2/user_invitations/{user_invitation_uuid} */
void invitations_get(struct api_call *call)
{
    struct store_invitation inv = {0}; /* cleared below even when no lookup ran */
    if (require_perm_or_reply(call, PERM_USER_ACCESS_INVITE))
        return;
    const char *id = call->params[0];
    int rc = uuid_valid(id, strlen(id)) ? store_invitation_get(call->env->store, call->who.org_id, id, &inv)
                                        : KH_ENOTFOUND;
    if (rc == KH_ENOTFOUND)
        reply_error(call, 404, "Invitation %s not found", id);
    else if (rc)
        reply_store_error(call, rc);
    else
        reply_json(call, 200, json_pack("{s:o}", "data", render_invitation(&inv)));
    store_invitation_clear(&inv);
}
