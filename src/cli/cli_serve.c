/* cli_serve.c - `keyhold serve`: load settings and the server secret, check
 * the store, and hand over to the HTTP server until SIGINT/SIGTERM. With
 * --ephemeral it first makes a store in memory with one org, and prints
 * that org's keys and the address it serves on. */
#include "cli/cli.h"

#include "http/server.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: keyhold serve [--db FILE] [--listen HOST:PORT] [--threads N] [--secret FILE]\n"
    "                     [--max-api-keys N] [--max-app-keys N] [--usage-flush-ms N] [--max-connections N]\n"
    "                     [--max-connections-per-address N]\n"
    "                     [--request-timeout SECONDS]\n"
    "                     [--rate-limit-org N/P] [--rate-limit-credential N/P]\n"
    "                     [--rate-limit-auth-failures N/P] [--rate-limit-credential-share PERCENT]\n"
    "                     [--rate-limit-table-size N] [--log-level error|warn|info|debug]\n"
    "                     [--test-mode] [--ephemeral [--api-key KEY] [--app-key KEY] [--org NAME]\n"
    "                     [--admin-email EMAIL]]\n"
    "\n"
    "Serves the Datadog-compatible key management API over HTTP/1.1.\n"
    "  --db FILE          store (default ./var/keyhold.db, or KEYHOLD_DB)\n"
    "  --listen HOST:PORT address (default 127.0.0.1:8080, or KEYHOLD_LISTEN; port 0 picks one)\n"
    "  --threads N        event loops (default: one per CPU)\n"
    "  --secret FILE      server secret (default FILE.secret, or KEYHOLD_SECRET_FILE)\n"
    "  --max-api-keys N   API keys allowed per org (default 50)\n"
    "  --max-app-keys N   application keys allowed per user (default 1000)\n"
    "  --usage-flush-ms N how often last-used times are written (default 2000)\n"
    "  --max-connections N open connections, over all event loops (default 8192); at the\n"
    "                     cap the oldest connection waiting for a request is closed\n"
    "  --max-connections-per-address N\n"
    "                     of those, from one client address (default 512; raise it\n"
    "                     behind a proxy, whose connections all share its address)\n"
    "  --request-timeout S a request not fully received within S seconds of the\n"
    "                     connection turning to it is answered 408 (default 10)\n"
    "  --rate-limit-org N/P          requests per org per P seconds (default 20000/10; 0 = off)\n"
    "  --rate-limit-credential N/P   requests per key or token (default 10000/10)\n"
    "  --rate-limit-auth-failures N/P failed authentications per client address (default 60/60)\n"
    "  --rate-limit-credential-share PERCENT\n"
    "                     of the org's budget, what one key or token may use (1..100, default 25)\n"
    "  --rate-limit-table-size N     keys each rate-limit table holds before the least recently\n"
    "                     used is evicted (16..16777216, default 65536; about 120 bytes a key)\n"
    "\n"
    "A test double for suites written against Datadog's API:\n"
    "  --ephemeral        no files: a new store in memory with one org, whose admin's API\n"
    "                     key and application key are printed on stdout as one JSON line\n"
    "                     {\"api_key\",\"app_key\",\"org_id\",\"user_id\",\"url\",\"port\"} once serving.\n"
    "                     Implies --test-mode. Default listen address 127.0.0.1:0.\n"
    "  --api-key KEY      that org's API key instead of a random one (32 characters of\n"
    "                     [0-9A-Za-z_]); KEYHOLD_API_KEY is better: other local users can\n"
    "                     read a process's arguments, not its environment\n"
    "  --app-key KEY      its application key (40 characters; or, better, KEYHOLD_APP_KEY)\n"
    "  --org NAME, --admin-email EMAIL  the org's name and its admin's email\n"
    "  --test-mode        relaxations for test suites, each printed at start:\n"
    "                     - a PAT's expires_at may be any future time (not 24 h ahead at least),\n"
    "                       so expiry can be tested in seconds;\n"
    "                     - the failed-authentication limit per client address is off;\n"
    "                     - POST /api/v2/keyhold/reset (the first org's admin, unscoped) wipes\n"
    "                       everything but the first org, its admin and their two keys.\n"
    "SIGINT or SIGTERM: finish in-flight requests, close the store, exit 0.\n";

/* What test mode relaxes, printed at start (and listed in USAGE). */
static const char *const test_mode_relaxations[] = {
    "a PAT's expires_at may be any future time",
    "the failed-authentication limit per client address is off",
    "POST /api/v2/keyhold/reset wipes everything but the first org, its admin and their two keys",
};

static void apply_test_mode(struct config *cfg)
{
    cfg->test_mode = 1;
    cfg->rate_auth_failures = (struct rate_rule){0, 0};
    for (size_t i = 0; i < sizeof test_mode_relaxations / sizeof test_mode_relaxations[0]; i++)
        log_info("test mode: %s", test_mode_relaxations[i]);
}

/* The ephemeral org: what --ephemeral prints once the port is known. */
struct ephemeral {
    struct config *cfg;
    struct provisioned p;
};

static void print_ephemeral(int port, void *arg)
{
    struct ephemeral *e = arg;
    const char *host = e->cfg->listen_host;
    char url[300];
    const char *scheme = e->cfg->tls_cert_path ? "https" : "http";
    snprintf(url, sizeof url, strchr(host, ':') ? "%s://[%s]:%d" : "%s://%s:%d", scheme, host, port);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i}", "api_key", e->p.api_key, "app_key", e->p.app_key, "org_id",
                          e->p.org_id, "user_id", e->p.user_id, "url", url, "port", port);
    char *text = json_dumps(o, JSON_COMPACT);
    printf("%s\n", text);
    fflush(stdout);
    secret_wipe(text, strlen(text));
    free(text);
    json_decref(o);
    provisioned_wipe(&e->p);
}

/* A key value from an option, else the environment, checked; NULL when
 * neither gives one (a random key is made). */
static int key_value(const char *opt, const char *env, size_t len, const char *what, const char **out)
{
    const char *v = opt ? opt : getenv(env);
    *out = NULL;
    if (!v || !*v)
        return 0;
    if (!cred_value_plausible(v, len)) {
        fprintf(stderr, "keyhold: %s must be %zu characters of [0-9A-Za-z_]\n", what, len);
        return -1;
    }
    *out = v;
    return 0;
}

/* --ephemeral: a store in this process's memory, kept alive by *keeper
 * until the server stops, with its first org; a secret that never touches
 * the disk. */
static int start_ephemeral(struct config *cfg, const struct org_spec *spec, struct store **keeper,
                           struct server_secret *secret, struct ephemeral *e)
{
    char dsn[64], *err = NULL;
    uint8_t master[SECRET_KEY_LEN];
    store_memory_dsn(dsn, sizeof dsn);
    free(cfg->db_path);
    cfg->db_path = xstrdup(dsn);
    secret_random(master, sizeof master);
    secret_from_master(master, secret);
    secret_wipe(master, sizeof master);
    if (store_open(cfg->db_path, keeper, &err)) {
        fprintf(stderr, "keyhold: %s\n", err);
        free(err);
        return 1;
    }
    if (provision_org(*keeper, secret, spec, &e->p)) {
        fprintf(stderr, "keyhold: cannot make the ephemeral org\n");
        return 1;
    }
    e->cfg = cfg;
    return 0;
}

int cli_serve(int argc, char **argv)
{
    enum {
        OPT_DB = 1,
        OPT_LISTEN,
        OPT_THREADS,
        OPT_SECRET,
        OPT_MAX_API,
        OPT_MAX_APP,
        OPT_FLUSH,
        OPT_MAX_CONN,
        OPT_MAX_CONN_ADDR,
        OPT_REQ_TIMEOUT,
        OPT_RATE_ORG,
        OPT_RATE_CRED,
        OPT_RATE_AUTH,
        OPT_RATE_SHARE,
        OPT_RATE_TABLE,
        OPT_LOG,
        OPT_LOG_FORMAT,
        OPT_ADMIN_LISTEN,
        OPT_TLS_CERT,
        OPT_TLS_KEY,
        OPT_HELP,
        OPT_EPHEMERAL,
        OPT_TEST_MODE,
        OPT_API_KEY,
        OPT_APP_KEY,
        OPT_ORG,
        OPT_EMAIL
    };
    static const struct option options[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"secret", required_argument, NULL, OPT_SECRET},
        {"max-api-keys", required_argument, NULL, OPT_MAX_API},
        {"max-app-keys", required_argument, NULL, OPT_MAX_APP},
        {"usage-flush-ms", required_argument, NULL, OPT_FLUSH},
        {"max-connections", required_argument, NULL, OPT_MAX_CONN},
        {"max-connections-per-address", required_argument, NULL, OPT_MAX_CONN_ADDR},
        {"request-timeout", required_argument, NULL, OPT_REQ_TIMEOUT},
        {"rate-limit-org", required_argument, NULL, OPT_RATE_ORG},
        {"rate-limit-credential", required_argument, NULL, OPT_RATE_CRED},
        {"rate-limit-auth-failures", required_argument, NULL, OPT_RATE_AUTH},
        {"rate-limit-credential-share", required_argument, NULL, OPT_RATE_SHARE},
        {"rate-limit-table-size", required_argument, NULL, OPT_RATE_TABLE},
        {"log-level", required_argument, NULL, OPT_LOG},
        {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
        {"admin-listen", required_argument, NULL, OPT_ADMIN_LISTEN},
        {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
        {"tls-key", required_argument, NULL, OPT_TLS_KEY},
        {"help", no_argument, NULL, OPT_HELP},
        {"ephemeral", no_argument, NULL, OPT_EPHEMERAL},
        {"test-mode", no_argument, NULL, OPT_TEST_MODE},
        {"api-key", required_argument, NULL, OPT_API_KEY},
        {"app-key", required_argument, NULL, OPT_APP_KEY},
        {"org", required_argument, NULL, OPT_ORG},
        {"admin-email", required_argument, NULL, OPT_EMAIL},
        {NULL, 0, NULL, 0},
    };
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    struct config cfg;
    struct server_secret secret;
    struct store *st = NULL;
    struct ephemeral eph;
    struct org_spec spec = {
        .name = "keyhold", .admin_email = "admin@example.com", .first = 1, .made_by = "keyhold serve --ephemeral"};
    const char *api_key_opt = NULL, *app_key_opt = NULL;
    int c, status = 2, ephemeral = 0, test_mode = 0, listen_given = getenv("KEYHOLD_LISTEN") != NULL;
    long n;
    memset(&eph, 0, sizeof eph);
    config_defaults(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case OPT_DB:
            free(cfg.db_path);
            cfg.db_path = xstrdup(optarg);
            break;
        case OPT_LISTEN:
            listen_given = 1;
            if (config_set_listen(&cfg, optarg)) {
                fprintf(stderr, "keyhold: --listen wants HOST:PORT, got '%s'\n", optarg);
                goto out;
            }
            break;
        case OPT_THREADS:
            if (cli_parse_long(optarg, 1, 64, &n)) {
                fprintf(stderr, "keyhold: --threads wants 1..64\n");
                goto out;
            }
            cfg.threads = (int)n;
            break;
        case OPT_SECRET:
            free(cfg.secret_path);
            cfg.secret_path = xstrdup(optarg);
            break;
        case OPT_MAX_API:
            if (cli_parse_long(optarg, 1, 1000000, &cfg.max_api_keys)) {
                fprintf(stderr, "keyhold: --max-api-keys wants 1..1000000\n");
                goto out;
            }
            break;
        case OPT_MAX_APP:
            if (cli_parse_long(optarg, 1, 1000000, &cfg.max_app_keys)) {
                fprintf(stderr, "keyhold: --max-app-keys wants 1..1000000\n");
                goto out;
            }
            break;
        case OPT_FLUSH:
            if (cli_parse_long(optarg, 10, 60000, &n)) {
                fprintf(stderr, "keyhold: --usage-flush-ms wants 10..60000\n");
                goto out;
            }
            cfg.usage_flush_ms = (int)n;
            break;
        case OPT_MAX_CONN:
            if (cli_parse_long(optarg, 1, 1000000, &cfg.max_connections)) {
                fprintf(stderr, "keyhold: --max-connections wants 1..1000000\n");
                goto out;
            }
            break;
        case OPT_MAX_CONN_ADDR:
            if (cli_parse_long(optarg, 1, 1000000, &cfg.max_connections_per_address)) {
                fprintf(stderr, "keyhold: --max-connections-per-address wants 1..1000000\n");
                goto out;
            }
            break;
        case OPT_REQ_TIMEOUT:
            if (cli_parse_long(optarg, 1, 3600, &n)) {
                fprintf(stderr, "keyhold: --request-timeout wants 1..3600 seconds\n");
                goto out;
            }
            cfg.request_timeout_ms = (int)n * 1000;
            break;
        case OPT_RATE_ORG:
        case OPT_RATE_CRED:
        case OPT_RATE_AUTH: {
            struct rate_rule *rule = c == OPT_RATE_ORG    ? &cfg.rate_org
                                     : c == OPT_RATE_CRED ? &cfg.rate_credential
                                                          : &cfg.rate_auth_failures;
            if (rate_rule_parse(optarg, rule)) {
                fprintf(stderr, "keyhold: rate limits are N/P (N requests per P seconds) or 0, got '%s'\n", optarg);
                goto out;
            }
            break;
        }
        case OPT_RATE_SHARE:
            if (cli_parse_long(optarg, 1, 100, &n)) {
                fprintf(stderr, "keyhold: --rate-limit-credential-share wants a percentage, 1..100\n");
                goto out;
            }
            cfg.rate_credential_share = (int)n;
            break;
        case OPT_RATE_TABLE:
            if (cli_parse_long(optarg, RATE_TABLE_MIN_ENTRIES, RATE_TABLE_MAX_ENTRIES, &cfg.rate_table_entries)) {
                fprintf(stderr, "keyhold: --rate-limit-table-size wants %d..%d\n", RATE_TABLE_MIN_ENTRIES,
                        RATE_TABLE_MAX_ENTRIES);
                goto out;
            }
            break;
        case OPT_LOG: {
            int found = 0;
            for (int i = 0; i < 4; i++)
                if (strcmp(optarg, levels[i]) == 0)
                    log_set_level((enum log_level)i), found = 1;
            if (!found) {
                fprintf(stderr, "keyhold: --log-level wants error, warn, info or debug\n");
                goto out;
            }
            break;
        }
        case OPT_LOG_FORMAT: {
            enum log_format f;
            if (log_format_parse(optarg, &f)) {
                fprintf(stderr, "keyhold: --log-format wants text or json\n");
                goto out;
            }
            log_set_format(f);
            break;
        }
        case OPT_ADMIN_LISTEN:
            if (config_set_admin_listen(&cfg, optarg)) {
                fprintf(stderr, "keyhold: --admin-listen wants HOST:PORT, got '%s'\n", optarg);
                goto out;
            }
            break;
        case OPT_TLS_CERT:
            free(cfg.tls_cert_path);
            cfg.tls_cert_path = xstrdup(optarg);
            break;
        case OPT_TLS_KEY:
            free(cfg.tls_key_path);
            cfg.tls_key_path = xstrdup(optarg);
            break;
        case OPT_EPHEMERAL:
            ephemeral = 1;
            break;
        case OPT_TEST_MODE:
            test_mode = 1;
            break;
        case OPT_API_KEY:
            api_key_opt = optarg;
            break;
        case OPT_APP_KEY:
            app_key_opt = optarg;
            break;
        case OPT_ORG:
            spec.name = optarg;
            break;
        case OPT_EMAIL:
            spec.admin_email = optarg;
            break;
        case OPT_HELP:
            cli_usage(USAGE, 0);
            status = 0;
            goto out;
        default:
            cli_usage(USAGE, 1);
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "keyhold: unexpected argument '%s'\n", argv[optind]);
        goto out;
    }
    if (!ephemeral && (api_key_opt || app_key_opt)) {
        fprintf(stderr, "keyhold: --api-key and --app-key go with --ephemeral\n");
        goto out;
    }
    if (ephemeral) {
        if (key_value(api_key_opt, "KEYHOLD_API_KEY", API_KEY_VALUE_LEN, "the API key", &spec.api_key) ||
            key_value(app_key_opt, "KEYHOLD_APP_KEY", APP_KEY_VALUE_LEN, "the application key", &spec.app_key))
            goto out;
        if (!listen_given)
            cfg.listen_port = 0;
        cfg.ephemeral = 1;
        status = start_ephemeral(&cfg, &spec, &st, &secret, &eph);
    } else {
        status = cli_open(&cfg, 1, &st, &secret); /* holds the store's lock while the server runs */
        if (!status && provision_sync_catalog(st)) {
            fprintf(stderr, "keyhold: cannot bring the managed roles in step with the permission catalogue\n");
            status = 1;
        }
        store_close(st); /* each event loop opens its own handle */
        st = NULL;
    }
    if (!status) {
        if (ephemeral || test_mode)
            apply_test_mode(&cfg);
        status = http_serve_notify(&cfg, &secret, ephemeral ? print_ephemeral : NULL, &eph);
    }
    secret_wipe(&secret, sizeof secret);
    provisioned_wipe(&eph.p);
    store_close(st); /* the ephemeral store goes with its last handle */
out:
    config_free(&cfg);
    return status;
}
