/* config.c - defaults and environment for struct config (see config.h). */
#include "config.h"

#include "util/errors.h"
#include "util/leakreport.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    const char *db = getenv("KEYHOLD_DB");
    cfg->db_path = xstrdup(db && *db ? db : "./var/keyhold.db");
    const char *secret = getenv("KEYHOLD_SECRET_FILE");
    cfg->secret_path = secret && *secret ? xstrdup(secret) : NULL;
    cfg->listen_host = xstrdup("127.0.0.1");
    cfg->listen_port = 8080;
    const char *listen = getenv("KEYHOLD_LISTEN");
    if (listen && *listen)
        config_set_listen(cfg, listen);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = n > 0 && n < 64 ? (int)n : 1;
    cfg->max_api_keys = 50;
    cfg->max_app_keys = 1000;
    cfg->remote_config = 1;
    cfg->usage_flush_ms = 2000;
    cfg->webhook_retry_base_ms = 10000;
    cfg->expiry_scan_ms = 60000;
    cfg->max_connections = 8192;
    cfg->max_connections_per_address = 512;
    cfg->request_timeout_ms = 10000;
    cfg->rate_org = (struct rate_rule){20000, 10};
    cfg->rate_credential = (struct rate_rule){10000, 10};
    cfg->rate_auth_failures = (struct rate_rule){60, 60};
    cfg->rate_credential_share = 25;
    cfg->rate_table_entries = RATE_TABLE_DEFAULT_ENTRIES;
    cfg->history_retention_s = CONFIG_DEFAULT_HISTORY_RETENTION_S;
}

char *config_secret_path(const struct config *cfg)
{
    if (cfg->secret_path)
        return xstrdup(cfg->secret_path);
    if (strstr(cfg->db_path, "://"))
        return NULL; /* a database, not a file: no place beside it */
    return xasprintf("%s.secret", cfg->db_path);
}

/* "HOST:PORT" or "[V6]:PORT" into *host (replaced) and *port. */
static int parse_hostport(const char *hostport, char **host_out, int *port_out)
{
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport)
        return KH_EINVAL;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || end == colon + 1)
        return KH_EINVAL;
    const char *host = hostport;
    size_t hostlen = (size_t)(colon - hostport);
    if (host[0] == '[' && hostlen >= 2 && host[hostlen - 1] == ']') {
        host++;
        hostlen -= 2;
    }
    free(*host_out);
    *host_out = xstrndup(host, hostlen);
    *port_out = (int)port;
    return KH_OK;
}

int config_set_listen(struct config *cfg, const char *hostport)
{
    return parse_hostport(hostport, &cfg->listen_host, &cfg->listen_port);
}

int config_set_admin_listen(struct config *cfg, const char *hostport)
{
    return parse_hostport(hostport, &cfg->admin_host, &cfg->admin_port);
}

void config_store_label(const char *db, char *out, size_t len)
{
    const char *scheme_end = strstr(db, "://");
    if (!scheme_end) {
        snprintf(out, len, "%s", db);
        return;
    }
    /* scheme://[user[:password]@]host[:port][/db][?options]: the password
     * and the options (which may hold one) are left out. */
    const char *auth = scheme_end + 3;
    size_t auth_len = strcspn(auth, "/?");
    const char *at = memchr(auth, '@', auth_len);
    const char *host = at ? at + 1 : auth;
    size_t user_len = at ? strcspn(auth, ":@") : 0;
    size_t host_len = auth_len - (size_t)(host - auth);
    const char *path = auth + auth_len;
    size_t path_len = *path == '/' ? strcspn(path, "?") : 0;
    snprintf(out, len, "%.*s%.*s%s%.*s%.*s%s", (int)(auth - db), db, (int)user_len, auth, at ? "@" : "",
             (int)host_len, host, (int)path_len, path, strchr(path, '?') ? "?..." : "");
}

void config_free(struct config *cfg)
{
    free(cfg->db_path);
    free(cfg->secret_path);
    free(cfg->listen_host);
    free(cfg->admin_host);
    free(cfg->tls_cert_path);
    free(cfg->tls_key_path);
    free(cfg->leak_keys_path);
    leak_keys_free(cfg->leak_keys);
    memset(cfg, 0, sizeof *cfg);
}
