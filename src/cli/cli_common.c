/* cli_common.c - helpers every subcommand uses: opening the store with its
 * secret, printing credentials, usage text. */
#include "cli/cli.h"

#include "auth/keyring.h"
#include "util/clock.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_refuse_memory_store(const char *dsn)
{
    if (!store_dsn_in_memory(dsn))
        return 0;
    fprintf(stderr, "keyhold: %s names a store in memory, which only `keyhold serve --ephemeral` makes\n", dsn);
    return 1;
}

int cli_refuse_missing_store(const char *dsn)
{
    char *err = NULL;
    int rc = store_exists(dsn, &err);
    if (rc == KH_ENOTFOUND)
        fprintf(stderr, "keyhold: there is no store at %s (only `keyhold init --db %s` makes one; check the path)\n",
                dsn, dsn);
    else if (rc)
        fprintf(stderr, "keyhold: %s\n", err ? err : "cannot reach the store");
    free(err);
    return rc != KH_OK;
}

/* The secret file of a store that exists could not be loaded: say what to
 * do about the secret file (the store is there; init would be wrong). */
static void explain_secret_failure(const char *db, const char *secret_path, int rc, const char *err)
{
    if (rc != KH_ENOTFOUND) {
        fprintf(stderr, "keyhold: %s\n", err);
        return;
    }
    fprintf(stderr,
            "keyhold: no server secret at %s. The store %s can only be used with the secret file it was made with: "
            "if it was restored from a backup, put the secret file kept with that backup there, or name it with "
            "--secret FILE\n",
            secret_path, db);
}

char *cli_secret_path(const struct config *cfg)
{
    char *path = config_secret_path(cfg);
    if (!path)
        fprintf(stderr, "keyhold: a %s store needs --secret FILE (or KEYHOLD_SECRET_FILE): every node uses the same "
                        "secret file\n",
                store_backend_name(cfg->db_path));
    return path;
}

int cli_check_keyring(struct store *st, const char *db, const char *secret_path, const struct server_secret *secret)
{
    enum keyring_verdict verdict;
    int version;
    if (keyring_check(st, secret, clock_now_us(), &verdict, &version)) {
        fprintf(stderr, "keyhold: cannot read which server secret %s was made with\n", db);
        return 1;
    }
    if (verdict == KEYRING_MISMATCH)
        fprintf(stderr,
                "keyhold: the secret file %s is not the one %s was made with (its v%d differs); every credential "
                "would be refused. Use the secret file kept with this store (--secret FILE)\n",
                secret_path, db, version);
    else if (verdict == KEYRING_MISSING)
        fprintf(stderr,
                "keyhold: %s holds credentials made under server secret v%d, which the secret file %s does not have "
                "(an older copy of the file, or one pruned since). Use the secret file kept with this store "
                "(--secret FILE)\n",
                db, version, secret_path);
    return verdict != KEYRING_OK;
}

/* Holds the store against a restore (store_hold, shared) for the rest of the
 * process: a command that writes to a store cannot run while it is being
 * replaced, nor a restore while such a command (or a server) has it open.
 * The system lets go at exit. */
static int hold_store(const char *db)
{
    char *err = NULL;
    int hold, rc = store_hold(db, 0, &hold, &err);
    if (rc == KH_EBUSY)
        fprintf(stderr, "keyhold: %s is being restored; try again once the restore is done\n", db);
    else if (rc)
        fprintf(stderr, "keyhold: %s\n", err ? err : "cannot hold the store");
    free(err);
    return rc != KH_OK; /* the hold stays until the process ends */
}

int cli_open(const struct config *cfg, int require_init, struct store **st, struct server_secret *secret)
{
    char err[512], *serr = NULL, *v = NULL;
    *st = NULL;
    if (cli_refuse_memory_store(cfg->db_path) || cli_refuse_missing_store(cfg->db_path) || hold_store(cfg->db_path))
        return 1;
    char *secret_path = cli_secret_path(cfg);
    if (!secret_path)
        return 1;
    int rc = secret_file_load(secret_path, secret, err, sizeof err);
    if (rc) {
        explain_secret_failure(cfg->db_path, secret_path, rc, err);
        goto fail;
    }
    if (store_open(cfg->db_path, st, &serr)) {
        fprintf(stderr, "keyhold: %s\n", serr);
        goto fail;
    }
    if (require_init && store_meta_get(*st, "initialized", &v) != KH_OK) {
        fprintf(stderr, "keyhold: %s is not initialised (run `keyhold init --db %s` first)\n", cfg->db_path,
                cfg->db_path);
        goto fail;
    }
    if (cli_check_keyring(*st, cfg->db_path, secret_path, secret))
        goto fail;
    if (keyring_record(*st, secret) != KH_OK)
        fprintf(stderr, "keyhold: could not record the server secret's fingerprint in %s (it will be next time)\n",
                cfg->db_path);
    free(v);
    free(secret_path);
    return 0;
fail:
    free(serr);
    free(v);
    free(secret_path);
    store_close(*st);
    *st = NULL;
    return 1;
}

void cli_print_provisioned(const struct provisioned *p, int json, int with_org)
{
    if (json) {
        json_t *o = json_pack("{s:s,s:s}", "user_id", p->user_id, "app_key", p->app_key);
        if (with_org) {
            json_object_set_new(o, "org_id", json_string(p->org_id));
            json_object_set_new(o, "api_key", json_string(p->api_key));
        }
        char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        printf("%s\n", text);
        free(text);
        json_decref(o);
        return;
    }
    if (with_org)
        printf("org id:           %s\n", p->org_id);
    printf("user id:          %s\n", p->user_id);
    if (with_org)
        printf("API key:          %s\n", p->api_key);
    printf("application key:  %s\n", p->app_key);
    printf("\nKeep these safe: the application key is shown only now.\n");
}

int cli_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

void cli_usage(const char *text, int to_stderr)
{
    fputs(text, to_stderr ? stderr : stdout);
}
