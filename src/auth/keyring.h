/* keyring.h - which server secret a store belongs to.
 *
 * A store is useless under another secret: every key lookup hash and token
 * hash misses, and a server started that way would answer every credential
 * 403 with nothing in its log. So the store records a fingerprint of each
 * secret version it has been used with (meta "secret_fingerprints", text
 * "1:<hex> 2:<hex>", see secret_fingerprint), and the commands that open a
 * store with its secret (serve, rotate-secret, user/org add, seed, restore,
 * check) compare before going on. A version with no fingerprint yet (a
 * store made before there were fingerprints) is proven by opening a key
 * sealed under it, before its fingerprint is recorded: the wrong file is
 * never recorded as the store's. */
#ifndef KH_KEYRING_H
#define KH_KEYRING_H

#include "store/store.h"
#include "util/secret.h"

#include <stdint.h>

enum keyring_verdict {
    KEYRING_OK = 0,
    KEYRING_MISMATCH, /* a version both know has another fingerprint: another secret file */
    KEYRING_MISSING,  /* live credentials use a version the secret lacks (pruned, or older file) */
};

/* Compares secret with what the store recorded, and with the versions its
 * live credentials use (now decides which tokens are live). Returns KH_OK
 * and *verdict, with *version the first version at fault; or a store error. */
int keyring_check(struct store *st, const struct server_secret *secret, int64_t now, enum keyring_verdict *verdict,
                  int *version);
/* Records the fingerprints of the versions of secret not recorded yet
 * (a store made before fingerprints learns them at its first open). */
int keyring_record(struct store *st, const struct server_secret *secret);

#endif
