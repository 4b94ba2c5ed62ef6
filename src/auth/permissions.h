/* permissions.h - the catalogue of permission names keyhold knows, and
 * permission sets as bitsets over that catalogue.
 *
 * Names are Datadog's permission names (case-sensitive); they are what roles
 * hold and what scopes of keys and tokens list. */
#ifndef KH_PERMISSIONS_H
#define KH_PERMISSIONS_H

#include <stddef.h>
#include <stdint.h>

struct permission {
    const char *name;
    const char *id;
    const char *group;
    const char *display_name;
    const char *description;
};

#define PERM_WORDS 2 /* room for 128 permissions */

struct permset {
    uint64_t bits[PERM_WORDS];
};

/* Indexes into the catalogue of the permissions the code checks by name. */
enum perm_id {
    PERM_API_KEYS_READ = 0,
    PERM_API_KEYS_WRITE,
    PERM_API_KEYS_DELETE,
    PERM_USER_APP_KEYS,
    PERM_ORG_APP_KEYS_READ,
    PERM_ORG_APP_KEYS_WRITE,
    PERM_SERVICE_ACCOUNT_WRITE,
    PERM_USER_ACCESS_READ,
    PERM_USER_ACCESS_INVITE,
    PERM_USER_ACCESS_MANAGE,
};

size_t perm_count(void);
const struct permission *perm_get(size_t index);
/* Index of a permission name, or -1 if keyhold does not know it. */
int perm_find(const char *name);
/* Index of a permission id, or -1. */
int perm_find_id(const char *id);

void permset_clear(struct permset *s);
void permset_all(struct permset *s);
void permset_add(struct permset *s, int index);
int permset_has(const struct permset *s, int index);
/* s = s AND other */
void permset_intersect(struct permset *s, const struct permset *other);
/* Non-zero when every member of sub is in super. */
int permset_subset(const struct permset *sub, const struct permset *super);

#endif
