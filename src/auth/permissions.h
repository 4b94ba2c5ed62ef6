/* permissions.h - Datadog's permission catalogue, the implicit scope keyhold
 * adds to it, Datadog's three managed roles, and permission sets as bitsets.
 *
 * The catalogue is Datadog's own (data/permissions.json, 300 permissions with
 * their real ids), compiled in by tools/gen_permissions.c: entry i is
 * PERM_<NAME> of enum perm_id in permissions_catalog.h, in Datadog's order.
 * Names are case-sensitive; they are what roles hold (by name, in the store)
 * and what the scopes of keys and tokens list. docs/permissions.md says how
 * the catalogue, the implicit scope and the managed roles fit together. */
#ifndef KH_PERMISSIONS_H
#define KH_PERMISSIONS_H

#include <stddef.h>
#include <stdint.h>

struct permission {
    const char *name;
    const char *id; /* Datadog's id: the same in every org and install */
    const char *group;
    const char *display_name;
    const char *description;
    const char *display_type; /* "read", "write" or "other" */
    const char *created;      /* when Datadog created it (RFC 3339) */
    int restricted;
};

#include "permissions_catalog.h" /* generated: enum perm_id, PERM_CATALOG_COUNT */

/* Beyond the catalogue. user_access_read (read users, roles and the
 * permission list) is an authorization scope of Datadog's API, not a
 * permission a role can hold: every user holds it, and a scoped credential
 * holds it only when its scopes name it. */
enum { PERM_USER_ACCESS_READ = PERM_CATALOG_COUNT, PERM_LIMIT };

#define PERM_WORDS ((PERM_LIMIT + 63) / 64)

struct permset {
    uint64_t bits[PERM_WORDS];
};

/* The catalogue: the permissions roles hold and GET /api/v2/permissions lists. */
size_t perm_count(void);
const struct permission *perm_get(size_t index); /* NULL past the catalogue */
/* The record of any index below PERM_LIMIT (catalogue or implicit scope),
 * or NULL. */
const struct permission *perm_scope_get(int index);
/* The name of any index below PERM_LIMIT (catalogue or implicit scope). */
const char *perm_name(int index);
/* Index of a name valid as a scope (catalogue or implicit), or -1. */
int perm_find(const char *name);
/* Catalogue index of a Datadog permission id, or -1. */
int perm_find_id(const char *id);

void permset_clear(struct permset *s);
/* Every catalogue permission and every implicit scope (unscoped credentials). */
void permset_all(struct permset *s);
void permset_add(struct permset *s, int index);
int permset_has(const struct permset *s, int index);
/* s = s AND other */
void permset_intersect(struct permset *s, const struct permset *other);
/* Non-zero when every member of sub is in super. */
int permset_subset(const struct permset *sub, const struct permset *super);
/* The lowest index in sub and not in super, or -1 when sub is a subset. */
int permset_first_missing(const struct permset *sub, const struct permset *super);

/* Datadog's managed roles, weakest last; each holds what the weaker hold. */
enum managed_role { MANAGED_ADMIN = 0, MANAGED_STANDARD, MANAGED_READ_ONLY, MANAGED_COUNT };

/* "Datadog Admin Role", "Datadog Standard Role", "Datadog Read Only Role". */
const char *managed_role_name(int role);
/* The managed role of that name, or -1. */
int managed_role_find(const char *name);
/* The catalogue permissions a managed role holds (docs/permissions.md). */
void managed_role_permset(int role, struct permset *out);

#endif
