/* cli_audit.c - `keyhold audit`: reads the audit trail of credential
 * events (created, updated, revoked, deleted, disabled, first use, expired
 * use, failed-authentication bursts), oldest first; `keyhold audit verify`
 * proves it unaltered. */
#include "cli/cli.h"

#include "auth/auditchain.h"
#include "util/clock.h"

#include <getopt.h>
#include <openssl/crypto.h> /* OPENSSL_hexchar2int */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_DB = 1, OPT_SINCE, OPT_LIMIT, OPT_JSON, OPT_HELP };

const struct option cli_audit_options[] = {
    {"db", required_argument, NULL, OPT_DB},       {"since", required_argument, NULL, OPT_SINCE},
    {"limit", required_argument, NULL, OPT_LIMIT}, {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},         {NULL, 0, NULL, 0},
};

int cli_audit(int argc, char **argv)
{
    const char *db = NULL; /* --db, or KEYHOLD_DB (cli_env_args) */
    int64_t since = 0;
    long limit = 1000;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", cli_audit_options, NULL)) != -1) {
        switch (c) {
        case OPT_DB:
            db = optarg;
            break;
        case OPT_SINCE:
            if (clock_parse(optarg, &since)) {
                fprintf(stderr, "keyhold: --since wants an RFC 3339 time, got '%s'\n", optarg);
                return 2;
            }
            break;
        case OPT_LIMIT:
            if (cli_parse_long(optarg, 1, 1000000, &limit)) {
                fprintf(stderr, "keyhold: --limit wants 1..1000000\n");
                return 2;
            }
            break;
        case OPT_JSON:
            json = 1;
            break;
        case OPT_HELP:
            cli_usage("audit", 0);
            return 0;
        default:
            cli_usage("audit", 1);
            return 2;
        }
    }
    if (!db || optind < argc) {
        cli_usage("audit", 1);
        return 2;
    }
    struct store *st = NULL;
    struct store_audit_list list;
    if (cli_open_read(db, &st))
        return 1;
    int rc = store_audit_list(st, since, limit, &list);
    store_close(st);
    if (rc) {
        fprintf(stderr, "keyhold: cannot read the audit trail of %s\n", db);
        return 1;
    }
    json_t *arr = json ? json_array() : NULL;
    for (size_t i = 0; i < list.n; i++) {
        const struct store_audit *e = &list.items[i];
        char at[CLOCK_BUF];
        clock_format_rfc3339(e->at, 0, at);
        if (json)
            json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "seq", (json_int_t)e->seq, "at",
                                                 at, "action", e->action, "target_kind", e->target_kind, "target_id",
                                                 e->target_id, "actor_id", e->actor_id, "org_id", e->org_id,
                                                 "source", e->source));
        else
            printf("%s %s %s %s by %s from %s\n", at, e->action, e->target_kind, e->target_id[0] ? e->target_id : "-",
                   e->actor_id[0] ? e->actor_id : "-", e->source[0] ? e->source : "-");
    }
    if (json) {
        char *text = json_dumps(arr, JSON_COMPACT);
        printf("%s\n", text);
        free(text);
        json_decref(arr);
    }
    store_audit_list_free(&list);
    return 0;
}

const struct option cli_audit_verify_options[] = {
    {"db", required_argument, NULL, CLI_OPT_DB},
    {"checkpoint", required_argument, NULL, CLI_OPT_CHECKPOINT},
    {"secret", required_argument, NULL, CLI_OPT_SECRET},
    {"json", no_argument, NULL, CLI_OPT_JSON},
    {"help", no_argument, NULL, CLI_OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* "NUMBER:MAC" (64 hex digits) into an anchor; -1 when malformed. */
static int parse_anchor(const char *text, struct auditchain_anchor *out)
{
    char *end;
    long long n = strtoll(text, &end, 10);
    if (end == text || *end != ':' || n < 1 || strlen(end + 1) != 2 * SECRET_HASH_LEN)
        return -1;
    out->number = n;
    for (int i = 0; i < SECRET_HASH_LEN; i++) {
        int hi = OPENSSL_hexchar2int((unsigned char)end[1 + 2 * i]), lo = OPENSSL_hexchar2int((unsigned char)end[2 + 2 * i]);
        if (hi < 0 || lo < 0)
            return -1;
        out->mac[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* `keyhold audit verify`: recomputes every link of the audit chain and
 * checks every signed checkpoint (auth/auditchain.h). Exit 0 when the
 * trail is intact, 1 when it is not (the first fault is named), 2 on a
 * usage error. */
int cli_audit_verify(int argc, char **argv)
{
    struct cli_admin_args a;
    struct store *st = NULL;
    struct server_secret secret;
    struct auditchain_report r;
    struct auditchain_anchor anchor;
    int status = cli_admin_parse(argc, argv, cli_audit_verify_options, "audit verify", 0, &a);
    if (status >= 0)
        goto out;
    if (a.checkpoint && parse_anchor(a.checkpoint, &anchor)) {
        fprintf(stderr, "keyhold: --checkpoint wants NUMBER:MAC as a server logged it (\"signed checkpoint N ..., mac "
                        "HEX\")\n");
        status = 2;
        goto out;
    }
    status = 1;
    if (cli_open(&a.cfg, 1, &st, &secret))
        goto out;
    int rc = auditchain_verify(st, &secret, a.checkpoint ? &anchor : NULL, &r);
    secret_wipe(&secret, sizeof secret);
    if (rc) {
        fprintf(stderr, "keyhold: cannot read the audit trail of %s\n", a.cfg.db_path);
        goto out;
    }
    status = r.broken ? 1 : 0;
    if (a.json) {
        cli_print_json(json_pack("{s:b,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "intact", !r.broken, "events",
                                 (json_int_t)r.events, "unsigned_events", (json_int_t)r.unsigned_events, "orgs",
                                 (json_int_t)r.orgs, "checkpoints", (json_int_t)r.checkpoints, "broken_seq",
                                 r.broken_seq ? json_integer(r.broken_seq) : json_null(), "broken_org",
                                 r.broken ? json_string(r.broken_org) : json_null(), "why",
                                 r.broken ? json_string(r.why) : json_null()));
    } else if (r.broken) {
        if (r.broken_org[0])
            printf("audit trail BROKEN: %s (org %s)\n", r.why, r.broken_org);
        else
            printf("audit trail BROKEN: %s\n", r.why);
    } else {
        printf("audit trail intact: %lld events in %lld chains, %lld signed checkpoints verified",
               (long long)r.events, (long long)r.orgs, (long long)r.checkpoints);
        if (r.unsigned_events)
            printf(", %lld events since the newest checkpoint (signed within a minute by a running server)",
                   (long long)r.unsigned_events);
        printf("\n");
    }
out:
    store_close(st);
    config_free(&a.cfg);
    return status;
}
