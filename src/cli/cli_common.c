/* cli_common.c - helpers every subcommand uses: opening the store with its
 * secret, printing credentials, usage text. */
#include "cli/cli.h"
#include "util/text.h"

#include "auth/events.h"
#include "auth/keyring.h"
#include "cli/cli_docs.h"
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

void cli_usage(const char *command, int to_stderr)
{
    for (size_t i = 0; i < cli_docs_count; i++)
        if (strcmp(cli_docs[i].command, command) == 0)
            fputs(cli_docs[i].help, to_stderr ? stderr : stdout);
}

int cli_open_read(const char *db, struct store **st)
{
    char *err = NULL;
    *st = NULL;
    if (cli_refuse_memory_store(db) || cli_refuse_missing_store(db))
        return 1;
    if (store_open(db, st, &err)) {
        fprintf(stderr, "keyhold: %s\n", err);
        free(err);
        return 1;
    }
    return 0;
}

void cli_print_json(json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    printf("%s\n", text);
    free(text);
    json_decref(doc);
}

json_t *cli_json_time(int64_t us)
{
    char at[CLOCK_BUF];
    if (!us)
        return json_null();
    clock_format_rfc3339(us, 0, at);
    return json_string(at);
}

/* Store text shown in a terminal: a name is whatever an API caller chose,
 * so escape sequences and forged line breaks are shown as '?' (JSON output,
 * escaped by jansson, keeps the text as it is). A few buffers in turn, so
 * one printf may show several fields. */
const char *cli_field(const json_t *row, const char *key)
{
    static char ring[8][1024];
    static unsigned next;
    const char *v = json_string_value(json_object_get(row, key));
    if (!v)
        return "-";
    char *out = ring[next++ % 8];
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)v;
    while (*p && o + 4 < sizeof ring[0]) {
        size_t n = text_control_at((const char *)p);
        if (n) {
            out[o++] = '?';
            p += n;
        } else {
            out[o++] = (char)*p++;
        }
    }
    if (*p) { /* cut: said so */
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

json_t *cli_counts_json(const char *report)
{
    json_t *o = json_object();
    char name[64];
    long long n;
    int used;
    for (const char *p = report; sscanf(p, "%63s %lld%n", name, &n, &used) == 2; p += used) {
        json_object_set_new(o, name, json_integer(n));
        if (p[used] == ',')
            used++;
    }
    return o;
}

int cli_audit_event(struct store *st, const char *org_id, const char *action, const char *kind, const char *target_id)
{
    struct store_audit e;
    memset(&e, 0, sizeof e);
    e.at = clock_now_us();
    snprintf(e.org_id, sizeof e.org_id, "%s", org_id);
    snprintf(e.actor_id, sizeof e.actor_id, "%s", CLI_ACTOR);
    snprintf(e.action, sizeof e.action, "%s", action);
    snprintf(e.target_kind, sizeof e.target_kind, "%s", kind);
    snprintf(e.target_id, sizeof e.target_id, "%s", target_id);
    snprintf(e.source, sizeof e.source, "cli");
    int rc = store_audit_insert(st, &e);
    return rc ? rc : events_from_audit(st, &e); /* webhooks hear of the CLI's changes too */
}

int cli_audit_provisioned(struct store *st, const struct provisioned *p, int with_org)
{
    int rc = cli_audit_event(st, p->org_id, "created", "user", p->user_id);
    if (!rc && with_org)
        rc = cli_audit_event(st, p->org_id, "created", "api_key", p->api_key_id);
    if (!rc)
        rc = cli_audit_event(st, p->org_id, "created", "application_key", p->app_key_id);
    return rc;
}

int cli_orgs(struct store *st, const char *only, struct store_strlist *out)
{
    memset(out, 0, sizeof *out);
    if (!only) {
        int rc = store_org_ids(st, out);
        if (rc)
            fprintf(stderr, "keyhold: cannot read the orgs of the store\n");
        return rc;
    }
    struct store_org org = {0};
    int rc = uuid_valid(only, strlen(only)) ? store_org_get(st, only, &org) : KH_ENOTFOUND;
    store_org_clear(&org);
    if (rc == KH_ENOTFOUND)
        fprintf(stderr, "keyhold: no org with id %s (keyhold org list shows them)\n", only);
    else if (rc)
        fprintf(stderr, "keyhold: cannot read org %s\n", only);
    if (rc)
        return rc;
    out->items = xmalloc(sizeof *out->items);
    out->items[0] = xstrdup(only);
    out->n = 1;
    return KH_OK;
}

int cli_admin_parse(int argc, char **argv, const struct option *options, const char *command, int want_id,
                    struct cli_admin_args *a)
{
    int c;
    memset(a, 0, sizeof *a);
    config_defaults(&a->cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case CLI_OPT_DB:
            free(a->cfg.db_path);
            a->cfg.db_path = xstrdup(optarg);
            break;
        case CLI_OPT_SECRET:
            free(a->cfg.secret_path);
            a->cfg.secret_path = xstrdup(optarg);
            break;
        case CLI_OPT_ORG:
            a->org = optarg;
            break;
        case CLI_OPT_KIND:
            a->kind = optarg;
            break;
        case CLI_OPT_OWNER:
            a->owner = optarg;
            break;
        case CLI_OPT_CHECKPOINT:
            a->checkpoint = optarg;
            break;
        case CLI_OPT_JSON:
            a->json = 1;
            break;
        case CLI_OPT_HELP:
            cli_usage(command, 0);
            return 0;
        default:
            cli_usage(command, 1);
            return 2;
        }
    }
    if (want_id && optind < argc)
        a->id = argv[optind++];
    if (optind < argc || (want_id && !a->id)) {
        if (optind < argc)
            fprintf(stderr, "keyhold: unexpected argument '%s'\n", argv[optind]);
        else
            fprintf(stderr, "keyhold: which one? Give its ID\n");
        cli_usage(command, 1);
        return 2;
    }
    return -1;
}

/* Non-zero when kind is one of kinds (or no --kind was given). */
static int kind_allowed(const char *kind, const char *const *kinds)
{
    if (!kind || !kinds)
        return !kind;
    for (size_t i = 0; kinds[i]; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return 1;
    return 0;
}

/* Flags the rows from..end of rows that are credentials of org quarantined
 * after a leak report ("leaked": "quarantined", only on those: a list
 * without leaks prints as before; docs/operations/leaks.md). */
static int mark_leaked(struct store *st, const char *org, json_t *rows, size_t from)
{
    struct store_leak_list leaks;
    int rc = store_leak_list(st, org, NULL, "quarantined", INT64_MAX, &leaks);
    for (size_t i = from; !rc && leaks.n && i < json_array_size(rows); i++) {
        json_t *row = json_array_get(rows, i);
        const char *id = json_string_value(json_object_get(row, "id"));
        for (size_t j = 0; id && j < leaks.n; j++)
            if (strcmp(leaks.items[j].credential_id, id) == 0)
                json_object_set_new(row, "leaked", json_string("quarantined"));
    }
    store_leak_list_free(&leaks);
    return rc;
}

int cli_list_run(const struct cli_list *l, int argc, char **argv)
{
    struct cli_admin_args a;
    struct store *st = NULL;
    struct store_strlist orgs = {0};
    json_t *rows = json_array();
    int status = cli_admin_parse(argc, argv, l->options, l->command, 0, &a);
    if (status < 0 && !kind_allowed(a.kind, l->kinds)) {
        fprintf(stderr, "keyhold: --kind wants %s or %s, got '%s'\n", l->kinds[0], l->kinds[1], a.kind);
        status = 2;
    }
    if (status >= 0)
        goto out;
    status = 1;
    if (cli_open_read(a.cfg.db_path, &st) || cli_orgs(st, a.org, &orgs))
        goto out;
    int rc = KH_OK;
    for (size_t i = 0; !rc && i < orgs.n; i++) {
        size_t from = json_array_size(rows);
        rc = l->collect(st, orgs.items[i], &a, rows);
        if (!rc)
            rc = mark_leaked(st, orgs.items[i], rows, from);
    }
    if (rc) {
        fprintf(stderr, "keyhold: cannot list the %s of %s\n", l->what, a.cfg.db_path);
        goto out;
    }
    if (a.json) {
        cli_print_json(rows);
        rows = NULL;
    } else {
        l->print(rows);
    }
    status = 0;
out:
    json_decref(rows);
    store_strlist_free(&orgs);
    store_close(st);
    config_free(&a.cfg);
    return status;
}
