/* config.h - the only process-wide settings. Filled once at startup from the
 * command line and environment, then treated as read-only by every thread. */
#ifndef KH_CONFIG_H
#define KH_CONFIG_H

#include "util/raterule.h"

#include <stddef.h>
#include <stdint.h>

struct leak_keys; /* util/leakreport.h */

#define KH_MAX_BODY (1024 * 1024) /* request bodies above this get 413 */
#define KH_MAX_JSON_DEPTH 32
#define KH_MAX_ID_LEN 128   /* path ids longer than this are never found */
#define KH_MAX_NAME_LEN 255 /* names of keys, tokens, users */
#define CONFIG_DEFAULT_HISTORY_RETENTION_S (90 * 86400LL)
#define CONFIG_MAX_HISTORY_RETENTION_S (3650 * 86400LL)

struct config {
    char *db_path;     /* the store (SQLite file path) */
    char *secret_path; /* the server secret; default "<db_path>.secret" */
    char *listen_host;
    int listen_port;
    int threads;          /* event loops; default: online CPUs */
    long max_api_keys;    /* per org; answered as meta.max_allowed */
    long max_app_keys;    /* per user; meta.max_allowed_per_user */
    int remote_config;    /* org-level Remote Config switch */
    int usage_flush_ms;   /* how often last-used times are written */
    long max_connections; /* open connections, over all event loops */
    long max_connections_per_address; /* of those, from one client address */
    int request_timeout_ms; /* a request not fully read by then gets 408 */
    struct rate_rule rate_org;           /* requests per org */
    struct rate_rule rate_credential;    /* requests per application key or token */
    struct rate_rule rate_auth_failures; /* failed authentications per client address */
    int rate_credential_share;           /* percent of its org's budget one credential may use (1..100) */
    long rate_table_entries;             /* keys each rate-limit table holds (util/raterule.h, api/ratelimit.h) */
    char *admin_host; /* the admin listener (metrics, probes): NULL = off */
    int admin_port;
    char *tls_cert_path, *tls_key_path; /* PEM files: both set = TLS on every listener */
    int ephemeral; /* the store lives in memory and the secret is not on disk (serve --ephemeral) */
    int test_mode; /* the relaxations of a test double (serve --test-mode), see cli_serve.c */
    int64_t history_retention_s; /* how long ended credentials stay listed (api/history.c) and kept */
    char *leak_keys_path;         /* GitHub's public keys for signed leak reports (serve --leak-public-keys) */
    struct leak_keys *leak_keys;  /* loaded from it at start; NULL = signed reports are refused */
    /* webhooks (docs/api/webhooks.md) */
    int webhook_allow_private;  /* URLs may name loopback, private and link-local addresses */
    long webhook_retry_base_ms; /* the first retry's delay; each next one doubles, up to an hour */
    int expiry_scan_ms;         /* how often the writer looks for tokens to warn about (test mode: 1 s) */
};

/* Defaults, then KEYHOLD_* environment variables. */
void config_defaults(struct config *cfg);
/* The secret file: as set, else "<db_path>.secret" for a store file; NULL
 * for a database named by URL (postgres://...), which needs it set (every
 * node uses the same file). Caller frees. */
char *config_secret_path(const struct config *cfg);
/* Parses "HOST:PORT" into cfg; returns 0 or KH_EINVAL. */
int config_set_listen(struct config *cfg, const char *hostport);
/* The same for the admin listener (turns it on). */
int config_set_admin_listen(struct config *cfg, const char *hostport);
/* The store as it may be logged: a database URL without its password and
 * options ("postgres://keyhold@db1:5432/keyhold"). */
void config_store_label(const char *db, char *out, size_t len);
void config_free(struct config *cfg);

#endif
