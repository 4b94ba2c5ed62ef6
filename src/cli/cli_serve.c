/* cli_serve.c - `keyhold serve`: load settings and the server secret, check
 * the store, and hand over to the HTTP server until SIGINT/SIGTERM. */
#include "cli/cli.h"

#include "http/server.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: keyhold serve [--db FILE] [--listen HOST:PORT] [--threads N] [--secret FILE]\n"
    "                     [--max-api-keys N] [--max-app-keys N] [--usage-flush-ms N] [--max-connections N]\n"
    "                     [--request-timeout SECONDS]\n"
    "                     [--rate-limit-org N/P] [--rate-limit-credential N/P]\n"
    "                     [--rate-limit-auth-failures N/P] [--log-level error|warn|info|debug]\n"
    "\n"
    "Serves the Datadog-compatible key management API over HTTP/1.1.\n"
    "  --db FILE          store (default ./var/keyhold.db, or KEYHOLD_DB)\n"
    "  --listen HOST:PORT address (default 127.0.0.1:8080, or KEYHOLD_LISTEN; port 0 picks one)\n"
    "  --threads N        event loops (default: one per CPU)\n"
    "  --secret FILE      server secret (default FILE.secret, or KEYHOLD_SECRET_FILE)\n"
    "  --max-api-keys N   API keys allowed per org (default 50)\n"
    "  --max-app-keys N   application keys allowed per user (default 1000)\n"
    "  --usage-flush-ms N how often last-used times are written (default 2000)\n"
    "  --max-connections N open connections, over all event loops (default 8192)\n"
    "  --request-timeout S a request not fully received within S seconds of the\n"
    "                     connection turning to it is answered 408 (default 10)\n"
    "  --rate-limit-org N/P          requests per org per P seconds (default 20000/10; 0 = off)\n"
    "  --rate-limit-credential N/P   requests per key or token (default 10000/10)\n"
    "  --rate-limit-auth-failures N/P failed authentications per client address (default 60/60)\n"
    "SIGINT or SIGTERM: finish in-flight requests, close the store, exit 0.\n";


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
        OPT_REQ_TIMEOUT,
        OPT_RATE_ORG,
        OPT_RATE_CRED,
        OPT_RATE_AUTH,
        OPT_LOG,
        OPT_HELP
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
        {"request-timeout", required_argument, NULL, OPT_REQ_TIMEOUT},
        {"rate-limit-org", required_argument, NULL, OPT_RATE_ORG},
        {"rate-limit-credential", required_argument, NULL, OPT_RATE_CRED},
        {"rate-limit-auth-failures", required_argument, NULL, OPT_RATE_AUTH},
        {"log-level", required_argument, NULL, OPT_LOG},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    struct config cfg;
    struct server_secret secret;
    struct store *st = NULL;
    int c, status = 2;
    long n;
    config_defaults(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case OPT_DB:
            free(cfg.db_path);
            cfg.db_path = xstrdup(optarg);
            break;
        case OPT_LISTEN:
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
            if (ratelimit_parse_rule(optarg, rule)) {
                fprintf(stderr, "keyhold: rate limits are N/P (N requests per P seconds) or 0, got '%s'\n", optarg);
                goto out;
            }
            break;
        }
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
    status = cli_open(&cfg, 1, &st, &secret);
    store_close(st); /* each event loop opens its own handle */
    if (status)
        goto out;
    status = http_serve(&cfg, &secret);
    secret_wipe(&secret, sizeof secret);
out:
    config_free(&cfg);
    return status;
}
