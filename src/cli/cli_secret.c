/* cli_secret.c - `keyhold rotate-secret`: a new version of the server secret,
 * with every API and application key re-sealed under it.
 *
 * Order matters while servers run. The new version is written to the file
 * first; servers notice the change within a second and from then on seal new
 * keys under it and look keys up under every version they hold. Only after
 * --wait seconds are the stored keys re-sealed, in one transaction, so no
 * running server ever meets a key sealed under a version it does not know.
 * Token hashes cannot be re-made (the token itself is not stored), so older
 * versions stay in the file while live tokens were minted under them;
 * --prune drops the versions nothing live uses any more. */
#include "cli/cli.h"

#include "auth/auditchain.h"

#include "auth/credentials.h"
#include "auth/keyring.h"
#include "util/clock.h"
#include "util/xmalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct rotate_args {
    struct config cfg;
    long wait_s;
    int prune;
    int json;
};

enum { OPT_DB = 1, OPT_SECRET, OPT_WAIT, OPT_PRUNE, OPT_JSON, OPT_HELP };

const struct option cli_rotate_secret_options[] = {
    {"db", required_argument, NULL, OPT_DB},     {"secret", required_argument, NULL, OPT_SECRET},
    {"wait", required_argument, NULL, OPT_WAIT}, {"prune", no_argument, NULL, OPT_PRUNE},
    {"json", no_argument, NULL, OPT_JSON},       {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, struct rotate_args *a)
{
    int c, have_db = 0; /* --db, or KEYHOLD_DB (cli_env_args) */
    optind = 1;
    while ((c = getopt_long(argc, argv, "", cli_rotate_secret_options, NULL)) != -1) {
        switch (c) {
        case OPT_DB:
            free(a->cfg.db_path);
            a->cfg.db_path = xstrdup(optarg);
            have_db = 1;
            break;
        case OPT_SECRET:
            free(a->cfg.secret_path);
            a->cfg.secret_path = xstrdup(optarg);
            break;
        case OPT_WAIT:
            if (cli_parse_long(optarg, 0, 3600, &a->wait_s)) {
                fprintf(stderr, "keyhold: --wait wants 0..3600 seconds\n");
                return 2;
            }
            break;
        case OPT_PRUNE:
            a->prune = 1;
            break;
        case OPT_JSON:
            a->json = 1;
            break;
        case OPT_HELP:
            cli_usage("rotate-secret", 0);
            return 0;
        default:
            cli_usage("rotate-secret", 1);
            return 2;
        }
    }
    if (!have_db || optind < argc) {
        cli_usage("rotate-secret", 1);
        return 2;
    }
    return -1;
}

static int audit_rotation(struct store *st, const char *action, int version)
{
    char id[16];
    snprintf(id, sizeof id, "v%d", version);
    return cli_audit_event(st, "server", action, "server_secret", id); /* the secret is the server's, no org's */
}

static int reseal_one(void *arg, const struct store_sealed *old, struct store_sealed *out)
{
    return cred_reseal(arg, old, out);
}

/* Signs the audit trail under the secret's current version, in a transaction
 * of its own, so that the newest checkpoint is verifiable with the versions
 * the file keeps (a later one vouches for those signed under removed ones).
 * A failure is said and left to a running server, which signs within a
 * minute. */
static void sign_trail(struct store *st, const struct server_secret *secret)
{
    int written = 0;
    int rc = store_begin(st);
    if (!rc)
        rc = store_end(st, auditchain_checkpoint(st, secret, clock_now_us(), &written));
    if (rc)
        fprintf(stderr, "keyhold: the audit trail could not be signed under the new secret (keyhold audit verify "
                        "says why); a running server signs it within a minute\n");
}

static int rotate(struct store *st, const char *secret_path, long wait_s, int json)
{
    char err[512];
    struct server_secret next;
    int64_t api = 0, app = 0;
    if (secret_file_add_version(secret_path, &next, err, sizeof err)) {
        fprintf(stderr, "keyhold: %s\n", err);
        return 1;
    }
    int version = secret_current(&next)->version;
    if (!json)
        printf("server secret v%d written to %s\n", version, secret_path);
    if (wait_s > 0) {
        if (!json)
            printf("waiting %ld s for running servers to load it...\n", wait_s);
        fflush(stdout);
        struct timespec ts = {wait_s, 0};
        while (nanosleep(&ts, &ts) != 0)
            ;
    }
    int rc = store_begin(st);
    if (!rc)
        rc = store_reseal(st, STORE_SEALED_API_KEYS, version, reseal_one, &next, &api);
    if (!rc)
        rc = store_reseal(st, STORE_SEALED_APP_KEYS, version, reseal_one, &next, &app);
    if (!rc)
        rc = keyring_record(st, &next); /* the store now belongs to v<version> too */
    if (!rc)
        rc = audit_rotation(st, "rotated", version);
    rc = store_end(st, rc);
    if (!rc)
        sign_trail(st, &next);
    secret_wipe(&next, sizeof next);
    if (rc) {
        fprintf(stderr,
                "keyhold: re-encrypting the keys failed (%s); nothing was changed in the store. The file keeps v%d, "
                "which is harmless: run rotate-secret again.\n",
                rc == KH_ECRYPTO ? "a key is sealed under a secret version the file no longer holds"
                : rc == KH_EBUSY ? "the store stayed locked"
                                 : "storage error",
                version);
        return 1;
    }
    if (json)
        cli_print_json(json_pack("{s:i,s:s,s:I,s:I}", "version", version, "secret_file", secret_path, "api_keys",
                                 (json_int_t)api, "app_keys", (json_int_t)app));
    else
        printf("re-encrypted %lld API keys and %lld application keys under v%d\n", (long long)api, (long long)app,
               version);
    return 0;
}

struct in_use {
    int versions[SECRET_MAX_VERSIONS * 4];
    size_t n;
};

static int version_in_use(int version, void *arg)
{
    const struct in_use *u = arg;
    for (size_t i = 0; i < u->n; i++)
        if (u->versions[i] == version)
            return 1;
    return 0;
}

static int prune(struct store *st, const char *secret_path, const struct server_secret *before, int json)
{
    char err[512];
    struct in_use used;
    struct server_secret after;
    size_t max = sizeof used.versions / sizeof used.versions[0];
    if (store_secret_versions(st, clock_now_us(), used.versions, max, &used.n) || used.n == max) {
        fprintf(stderr, "keyhold: cannot read which secret versions the store uses\n");
        return 1;
    }
    if (secret_file_retain(secret_path, version_in_use, &used, &after, err, sizeof err)) {
        fprintf(stderr, "keyhold: %s\n", err);
        return 1;
    }
    json_t *removed = json_array();
    for (int i = 0; i < before->n; i++)
        if (!secret_version(&after, before->keys[i].version)) {
            if (!json)
                printf("removed v%d\n", before->keys[i].version);
            json_array_append_new(removed, json_integer(before->keys[i].version));
            if (audit_rotation(st, "version_removed", before->keys[i].version))
                fprintf(stderr, "keyhold: could not record the removal of v%d in the audit trail\n",
                        before->keys[i].version);
        }
    sign_trail(st, &after);
    if (json)
        cli_print_json(json_pack("{s:o,s:i,s:i}", "removed", removed, "versions", after.n, "current",
                                 secret_current(&after)->version));
    else
        printf("server secret keeps %d version%s, current v%d\n", after.n, after.n == 1 ? "" : "s",
               secret_current(&after)->version);
    if (!json)
        json_decref(removed);
    secret_wipe(&after, sizeof after);
    return 0;
}

int cli_rotate_secret(int argc, char **argv)
{
    struct rotate_args a;
    struct server_secret secret;
    struct store *st = NULL;
    memset(&a, 0, sizeof a);
    config_defaults(&a.cfg);
    a.wait_s = 3;
    int status = parse_args(argc, argv, &a);
    if (status < 0) {
        char *path = config_secret_path(&a.cfg);
        status = cli_open(&a.cfg, 1, &st, &secret);
        if (!status)
            status = a.prune ? prune(st, path, &secret, a.json) : rotate(st, path, a.wait_s, a.json);
        free(path);
        store_close(st);
        secret_wipe(&secret, sizeof secret);
    }
    config_free(&a.cfg);
    return status;
}
