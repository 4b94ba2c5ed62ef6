/* cli_serve.c - `keyhold serve`: load settings and the server secret, check
 * the store, and hand over to the HTTP server until SIGINT/SIGTERM, telling
 * systemd when it is ready (sd_notify). With
 * --ephemeral it first makes a store in memory with one org, and prints
 * that org's keys and the address it serves on. */
#include "cli/cli.h"

#include "http/server.h"
#include "util/leakreport.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

/* What test mode relaxes, printed at start (and listed in docs/cli/serve.txt). */
static const char *const test_mode_relaxations[] = {
    "a PAT's expires_at may be any future time",
    "the failed-authentication limit per client address is off",
    "POST /api/v2/keyhold/reset wipes everything but the first org, its admin and their two keys",
    "expiry warnings for webhooks are looked for every second",
};

static void apply_test_mode(struct config *cfg)
{
    cfg->test_mode = 1;
    cfg->rate_auth_failures = (struct rate_rule){0, 0};
    cfg->expiry_scan_ms = 1000;
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

/* Under systemd (Type=notify, NOTIFY_SOCKET set): serve is ready once every
 * socket listens, and says where. Without NOTIFY_SOCKET sd_notify does
 * nothing. */
static void notify_ready(const struct config *cfg, int port)
{
    char msg[320];
    snprintf(msg, sizeof msg,
             strchr(cfg->listen_host, ':') ? "READY=1\nSTATUS=serving on %s://[%s]:%d"
                                           : "READY=1\nSTATUS=serving on %s://%s:%d",
             cfg->tls_cert_path ? "https" : "http", cfg->listen_host, port);
    int rc = sd_notify(0, msg);
    if (rc < 0)
        log_warn("could not tell systemd that keyhold is ready: %s", strerror(-rc));
}

/* Called by the HTTP server once it listens: prints the ephemeral org's
 * keys (--ephemeral), then tells systemd. */
static void on_ready(int port, void *arg)
{
    struct ephemeral *e = arg;
    if (e->cfg->ephemeral)
        print_ephemeral(port, e);
    notify_ready(e->cfg, port);
}

/* A key value from an option (or its variable, KEYHOLD_API_KEY or
 * KEYHOLD_APP_KEY: cli_env_args), checked; NULL when none is given (a
 * random key is made). */
static int key_value(const char *v, size_t len, const char *what, const char **out)
{
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

/* A duration: a whole number followed by s, m, h or d (seconds without a
 * unit), from 1 second to CONFIG_MAX_HISTORY_RETENTION_S. */
static int parse_duration(const char *v, int64_t *seconds)
{
    static const struct {
        char unit;
        long mult;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    size_t len = strlen(v);
    long mult = 1, n;
    char num[32];
    if (len == 0 || len >= sizeof num)
        return -1;
    memcpy(num, v, len + 1);
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (num[len - 1] == units[i].unit) {
            mult = units[i].mult;
            num[--len] = '\0';
        }
    if (cli_parse_long(num, 1, (long)(CONFIG_MAX_HISTORY_RETENTION_S / mult), &n))
        return -1;
    *seconds = (int64_t)n * mult;
    return 0;
}

/* --leak-public-keys: GitHub's public keys for signed leak reports, read
 * once at start (a file that does not parse stops the server: reports
 * would otherwise be refused unnoticed). */
static int load_leak_keys(struct config *cfg)
{
    char err[256];
    if (!cfg->leak_keys_path || !*cfg->leak_keys_path)
        return 0;
    cfg->leak_keys = leak_keys_load(cfg->leak_keys_path, err, sizeof err);
    if (!cfg->leak_keys) {
        fprintf(stderr, "keyhold: --leak-public-keys %s: %s\n", cfg->leak_keys_path, err);
        return -1;
    }
    log_info("leak reports: %zu public key(s) accepted for signed reports, from %s", leak_keys_count(cfg->leak_keys),
             cfg->leak_keys_path);
    return 0;
}

/* serve's options: what each means is in docs/cli/serve.txt. */
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
    OPT_CONFIG,
    OPT_PRINT_CONFIG,
    OPT_EPHEMERAL,
    OPT_TEST_MODE,
    OPT_API_KEY,
    OPT_APP_KEY,
    OPT_ORG,
    OPT_EMAIL,
    OPT_HISTORY_RETENTION,
    OPT_LEAK_KEYS,
    OPT_WEBHOOK_PRIVATE,
    OPT_WEBHOOK_RETRY
};

const struct option cli_serve_options[] = {
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
    {"config", required_argument, NULL, OPT_CONFIG},       /* read before getopt runs (cli_config.c) */
    {"print-config", no_argument, NULL, OPT_PRINT_CONFIG}, /* answered before getopt runs (cli_main.c) */
    {"ephemeral", no_argument, NULL, OPT_EPHEMERAL},
    {"test-mode", no_argument, NULL, OPT_TEST_MODE},
    {"api-key", required_argument, NULL, OPT_API_KEY},
    {"app-key", required_argument, NULL, OPT_APP_KEY},
    {"org", required_argument, NULL, OPT_ORG},
    {"admin-email", required_argument, NULL, OPT_EMAIL},
    {"history-retention", required_argument, NULL, OPT_HISTORY_RETENTION},
    {"leak-public-keys", required_argument, NULL, OPT_LEAK_KEYS},
    {"webhook-allow-private", no_argument, NULL, OPT_WEBHOOK_PRIVATE},
    {"webhook-retry-base-ms", required_argument, NULL, OPT_WEBHOOK_RETRY},
    {NULL, 0, NULL, 0},
};

int cli_serve(int argc, char **argv)
{
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
    while ((c = getopt_long(argc, argv, "", cli_serve_options, NULL)) != -1) {
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
        case OPT_WEBHOOK_PRIVATE:
            cfg.webhook_allow_private = 1;
            break;
        case OPT_WEBHOOK_RETRY:
            if (cli_parse_long(optarg, 10, 3600000, &cfg.webhook_retry_base_ms)) {
                fprintf(stderr, "keyhold: --webhook-retry-base-ms wants 10..3600000\n");
                goto out;
            }
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
        case OPT_CONFIG:
        case OPT_PRINT_CONFIG:
            break;
        case OPT_EMAIL:
            spec.admin_email = optarg;
            break;
        case OPT_HISTORY_RETENTION:
            if (parse_duration(optarg, &cfg.history_retention_s)) {
                fprintf(stderr, "keyhold: --history-retention wants a duration such as 90d, 12h or 30s (1s..3650d)\n");
                goto out;
            }
            break;
        case OPT_LEAK_KEYS:
            free(cfg.leak_keys_path);
            cfg.leak_keys_path = xstrdup(optarg);
            break;
        case OPT_HELP:
            cli_usage("serve", 0);
            status = 0;
            goto out;
        default:
            cli_usage("serve", 1);
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "keyhold: unexpected argument '%s'\n", argv[optind]);
        goto out;
    }
    if (load_leak_keys(&cfg))
        goto out;
    if (!ephemeral && (api_key_opt || app_key_opt)) {
        fprintf(stderr, "keyhold: --api-key and --app-key (KEYHOLD_API_KEY, KEYHOLD_APP_KEY) go with --ephemeral\n");
        goto out;
    }
    if (ephemeral) {
        if (key_value(api_key_opt, API_KEY_VALUE_LEN, "the API key", &spec.api_key) ||
            key_value(app_key_opt, APP_KEY_VALUE_LEN, "the application key", &spec.app_key))
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
        eph.cfg = &cfg;
        status = http_serve_notify(&cfg, &secret, on_ready, &eph);
    }
    secret_wipe(&secret, sizeof secret);
    provisioned_wipe(&eph.p);
    store_close(st); /* the ephemeral store goes with its last handle */
out:
    config_free(&cfg);
    return status;
}
