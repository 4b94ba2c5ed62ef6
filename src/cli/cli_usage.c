/* cli_usage.c - `keyhold usage ID`: who still uses a credential, from the
 * shell, on the store directly: what GET /api/v2/keyhold/credentials/{id}/usage
 * answers (last use, requests per day for 30 days, routes, latest clients),
 * for an API key, an application key or a token of any org (or of --org),
 * a revoked or expired token included. Never a secret, so no secret file. */
#include "cli/cli.h"

#include "util/clock.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct option cli_usage_options[] = {
    {"db", required_argument, NULL, CLI_OPT_DB},   {"org", required_argument, NULL, CLI_OPT_ORG},
    {"json", no_argument, NULL, CLI_OPT_JSON},     {"help", no_argument, NULL, CLI_OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* The credential the id names: kind ("api", "app", "pat", "sat"), org,
 * name and times. */
struct found {
    const char *kind;
    char org_id[UUID_STR];
    char *name;
    int64_t last_used_at;
    const char *state; /* "live", "revoked" or "expired" */
};

static int find_key(struct store *st, const struct store_strlist *orgs, const char *id, struct found *f)
{
    int rc = KH_ENOTFOUND;
    for (size_t i = 0; rc == KH_ENOTFOUND && i < orgs->n; i++) {
        struct store_api_key api = {0};
        struct store_app_key app = {0};
        if ((rc = store_api_key_get(st, orgs->items[i], id, &api)) == KH_OK) {
            f->kind = "api";
            f->name = xstrdup(api.name ? api.name : "");
            f->last_used_at = api.last_used_at;
        } else if (rc == KH_ENOTFOUND && (rc = store_app_key_get(st, orgs->items[i], id, &app)) == KH_OK) {
            f->kind = "app";
            f->name = xstrdup(app.name ? app.name : "");
            f->last_used_at = app.last_used_at;
        }
        if (!rc)
            snprintf(f->org_id, sizeof f->org_id, "%s", orgs->items[i]);
        store_api_key_clear(&api);
        store_app_key_clear(&app);
    }
    return rc;
}

static int find_token(struct store *st, const char *only_org, const char *id, struct found *f)
{
    struct store_token t;
    int rc = store_token_get(st, id, &t);
    if (!rc && only_org && strcmp(only_org, t.org_id) != 0)
        rc = KH_ENOTFOUND;
    if (!rc) {
        int64_t now = clock_now_us();
        f->kind = t.kind == STORE_TOKEN_SAT ? "sat" : "pat";
        f->name = xstrdup(t.name ? t.name : "");
        f->last_used_at = t.last_used_at;
        f->state = t.revoked_at ? "revoked" : t.expires_at && t.expires_at <= now ? "expired" : "live";
        snprintf(f->org_id, sizeof f->org_id, "%s", t.org_id);
    }
    store_token_clear(&t);
    return rc;
}

/* The usage as JSON: the API's attributes, with the credential's id, kind
 * and org. Days are every day of the window, oldest first. */
static json_t *usage_json(const char *id, const struct found *f, const struct store_usage *u, int64_t first_day)
{
    json_t *days = json_array(), *clients = json_array(), *routes = json_array();
    int64_t total = 0;
    size_t k = 0;
    for (int64_t d = first_day; d < first_day + STORE_USAGE_DAYS; d++) {
        char at[CLOCK_BUF];
        int64_t n = 0;
        while (k < u->n_days && u->days[k].day < d)
            k++;
        if (k < u->n_days && u->days[k].day == d)
            n = u->days[k].requests;
        total += n;
        clock_format_rfc3339(d * STORE_DAY_US, 0, at);
        json_array_append_new(days, json_pack("{s:s#,s:I}", "date", at, (int)10, "requests", (json_int_t)n));
    }
    for (size_t i = 0; i < u->n_clients; i++)
        json_array_append_new(clients, json_pack("{s:s,s:s?,s:o}", "address", u->clients[i].address, "user_agent",
                                                 u->clients[i].user_agent[0] ? u->clients[i].user_agent : NULL,
                                                 "last_seen_at", cli_json_time(u->clients[i].last_seen)));
    for (size_t i = 0; i < u->n_routes; i++)
        json_array_append_new(routes, json_pack("{s:s,s:I,s:o}", "route", u->routes[i].route, "requests",
                                                (json_int_t)u->routes[i].requests, "last_seen_at",
                                                cli_json_time(u->routes[i].last_seen)));
    return json_pack("{s:s,s:s,s:s,s:s?,s:s,s:o,s:I,s:o,s:o,s:o}", "id", id, "kind", f->kind, "org_id", f->org_id,
                     "name", f->name, "state", f->state ? f->state : "live", "last_used_at",
                     cli_json_time(f->last_used_at), "requests_last_30_days", (json_int_t)total, "days", days,
                     "clients", clients, "routes", routes);
}

static void print_usage(const json_t *u)
{
    size_t i;
    json_t *row;
    printf("%s %s of org %s (%s): %s\n", cli_field(u, "kind"), cli_field(u, "id"), cli_field(u, "org_id"),
           cli_field(u, "state"), cli_field(u, "name"));
    printf("last used   %s\n", cli_field(u, "last_used_at"));
    printf("requests    %lld in the last %d days\n",
           (long long)json_integer_value(json_object_get(u, "requests_last_30_days")), STORE_USAGE_DAYS);
    json_array_foreach(json_object_get(u, "days"), i, row)
    {
        json_int_t n = json_integer_value(json_object_get(row, "requests"));
        if (n)
            printf("  %s  %lld\n", cli_field(row, "date"), (long long)n);
    }
    printf("clients     (latest first)\n");
    json_array_foreach(json_object_get(u, "clients"), i, row)
        printf("  %-27s %-39s %s\n", cli_field(row, "last_seen_at"), cli_field(row, "address"),
               cli_field(row, "user_agent"));
    printf("routes      (most requests first)\n");
    json_array_foreach(json_object_get(u, "routes"), i, row)
        printf("  %8lld  %-27s %s\n", (long long)json_integer_value(json_object_get(row, "requests")),
               cli_field(row, "last_seen_at"), cli_field(row, "route"));
}

int cli_usage_show(int argc, char **argv)
{
    struct cli_admin_args a;
    struct store *st = NULL;
    struct store_strlist orgs = {0};
    struct store_usage u = {0};
    struct found f = {0};
    int status = cli_admin_parse(argc, argv, cli_usage_options, "usage", 1, &a);
    if (status >= 0)
        goto out;
    status = 1;
    if (!uuid_valid(a.id, strlen(a.id))) {
        fprintf(stderr, "keyhold: '%s' is not a credential id (keyhold key list and token list show them)\n", a.id);
        goto out;
    }
    if (cli_open_read(a.cfg.db_path, &st) || cli_orgs(st, a.org, &orgs))
        goto out;
    int rc = find_key(st, &orgs, a.id, &f);
    if (rc == KH_ENOTFOUND)
        rc = find_token(st, a.org, a.id, &f);
    int64_t first_day = clock_now_us() / STORE_DAY_US - (STORE_USAGE_DAYS - 1);
    if (!rc)
        rc = store_usage_get(st, a.id, first_day, &u);
    if (rc == KH_ENOTFOUND) {
        fprintf(stderr, "keyhold: no API key, application key or token with id %s%s%s\n", a.id,
                a.org ? " in org " : "", a.org ? a.org : "");
    } else if (rc) {
        fprintf(stderr, "keyhold: cannot read the usage of %s\n", a.id);
    } else {
        json_t *doc = usage_json(a.id, &f, &u, first_day);
        if (!doc) { /* a stored text jansson refuses (not UTF-8) */
            fprintf(stderr, "keyhold: the usage of %s cannot be shown: a stored text is not UTF-8\n", a.id);
            goto out;
        }
        if (a.json) {
            cli_print_json(doc);
        } else {
            print_usage(doc);
            json_decref(doc);
        }
        status = 0;
    }
out:
    free(f.name);
    store_usage_clear(&u);
    store_strlist_free(&orgs);
    store_close(st);
    config_free(&a.cfg);
    return status;
}
