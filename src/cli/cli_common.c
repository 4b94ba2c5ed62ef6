/* cli_common.c - helpers every subcommand uses: opening the store with its
 * secret, printing credentials, usage text. */
#include "cli/cli.h"

#include "util/xmalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

int cli_refuse_memory_store(const char *dsn)
{
    if (!store_dsn_in_memory(dsn))
        return 0;
    fprintf(stderr, "keyhold: %s names a store in memory, which only `keyhold serve --ephemeral` makes\n", dsn);
    return 1;
}

int cli_open(const struct config *cfg, int require_init, struct store **st, struct server_secret *secret)
{
    char err[512];
    char *serr = NULL;
    if (cli_refuse_memory_store(cfg->db_path))
        return 1;
    char *secret_path = config_secret_path(cfg);
    int rc = secret_file_load(secret_path, secret, err, sizeof err);
    if (rc) {
        fprintf(stderr, "keyhold: %s%s\n", err, rc == KH_ENOTFOUND ? " (run `keyhold init` first)" : "");
        free(secret_path);
        return 1;
    }
    free(secret_path);
    if (store_open(cfg->db_path, st, &serr)) {
        fprintf(stderr, "keyhold: %s\n", serr);
        free(serr);
        return 1;
    }
    char *v = NULL;
    if (require_init && store_meta_get(*st, "initialized", &v) != KH_OK) {
        fprintf(stderr, "keyhold: %s is not initialised (run `keyhold init --db %s` first)\n", cfg->db_path,
                cfg->db_path);
        store_close(*st);
        *st = NULL;
        return 1;
    }
    free(v);
    return 0;
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
