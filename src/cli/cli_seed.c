/* cli_seed.c - `keyhold seed`: fills a store with realistic rows fast, for
 * benchmarks (issue 5). Tokens are minted exactly as the API mints them
 * (random secret, keyed hash) and owned by the first org's admin, inserted
 * in transactions of 100,000 rows, in key order (seed_id). */
#include "cli/cli.h"

#include "auth/credentials.h"
#include "util/clock.h"
#include "util/xmalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 100000

/* A version 4 UUID whose first six bytes count up from a random start:
 * still random to look at, but the rows of one seed arrive in key order, so
 * the primary key and the indexes that end in the id are appended to
 * instead of being written all over (a million random keys spill the page
 * cache and make every insert a read). */
static void seed_id(uint64_t n, char out[UUID_STR])
{
    uint8_t b[16];
    secret_random(b, sizeof b);
    for (int i = 5; i >= 0; i--, n >>= 8)
        b[i] = (uint8_t)n;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    uuid_format(b, out);
}

static int seed_tokens(struct store *st, const struct server_secret *secret, const char *org, const char *owner,
                       long n)
{
    char value[TOKEN_LEN + 1];
    int64_t now = clock_now_us();
    uint64_t base;
    secret_random(&base, sizeof base);
    base &= 0x7fffffffffffULL; /* room to count up within six bytes */
    int rc = KH_OK;
    for (long i = 0; i < n && !rc; i += BATCH) {
        rc = store_begin(st);
        for (long j = i; !rc && j < n && j < i + BATCH; j++) {
            struct store_token t = {0};
            seed_id(base + (uint64_t)j, t.id);
            memcpy(t.org_id, org, UUID_STR);
            memcpy(t.owner_id, owner, UUID_STR);
            t.kind = STORE_TOKEN_PAT;
            t.name = xasprintf("seed token %08ld", j);
            t.scopes = xstrdup("[\"api_keys_read\"]");
            t.created_at = now + j;
            t.expires_at = now + 300LL * 86400 * 1000000;
            rc = cred_token_create(st, secret, &t, value);
            store_token_clear(&t);
        }
        rc = store_end(st, rc);
    }
    return rc;
}

static int seed_api_keys(struct store *st, const struct server_secret *secret, const char *org, const char *owner,
                         long n)
{
    char value[API_KEY_VALUE_LEN + 1];
    int64_t now = clock_now_us();
    int rc = store_begin(st);
    for (long j = 0; !rc && j < n; j++) {
        struct store_api_key k = {0};
        uuid_generate(k.id);
        memcpy(k.org_id, org, UUID_STR);
        k.name = xasprintf("seed key %08ld", j);
        k.category = xstrdup("default");
        memcpy(k.created_by, owner, UUID_STR);
        k.created_at = k.modified_at = now + j;
        rc = cred_api_key_create(st, secret, &k, value);
        store_api_key_clear(&k);
    }
    return store_end(st, rc);
}

/* Refuses (1, having said why) adding n API keys to an org that would then
 * hold more than max, the limit the API enforces on each create. */
static int api_keys_fit(struct store *st, const char *org, long n, long max)
{
    int64_t have = 0;
    if (n == 0)
        return 0;
    if (store_api_key_count(st, org, &have)) {
        fprintf(stderr, "keyhold: cannot count the API keys of org %s\n", org);
        return 1;
    }
    if (have + n <= max)
        return 0;
    fprintf(stderr,
            "keyhold: org %s has %lld API keys; %ld more would pass the limit of %ld (--max-api-keys, as the server "
            "enforces it); nothing was added\n",
            org, (long long)have, n, max);
    return 1;
}

enum { OPT_DB = 1, OPT_ORG, OPT_OWNER, OPT_TOKENS, OPT_KEYS, OPT_MAX_KEYS, OPT_SECRET, OPT_JSON, OPT_HELP };

const struct option cli_seed_options[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"org", required_argument, NULL, OPT_ORG},
    {"owner", required_argument, NULL, OPT_OWNER},
    {"tokens", required_argument, NULL, OPT_TOKENS},
    {"api-keys", required_argument, NULL, OPT_KEYS},
    {"max-api-keys", required_argument, NULL, OPT_MAX_KEYS},
    {"secret", required_argument, NULL, OPT_SECRET},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

int cli_seed(int argc, char **argv)
{
    struct config cfg;
    const char *org = NULL, *owner = NULL;
    long tokens = 0, keys = 0;
    int c, status = 2, json = 0;
    config_defaults(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", cli_seed_options, NULL)) != -1) {
        switch (c) {
        case OPT_DB:
            free(cfg.db_path);
            cfg.db_path = xstrdup(optarg);
            break;
        case OPT_SECRET:
            free(cfg.secret_path);
            cfg.secret_path = xstrdup(optarg);
            break;
        case OPT_ORG:
            org = optarg;
            break;
        case OPT_OWNER:
            owner = optarg;
            break;
        case OPT_TOKENS:
        case OPT_KEYS: {
            long v;
            if (cli_parse_long(optarg, 0, 100000000, &v)) {
                fprintf(stderr, "keyhold: counts are 0..100000000\n");
                goto out;
            }
            *(c == OPT_TOKENS ? &tokens : &keys) = v;
            break;
        }
        case OPT_MAX_KEYS:
            if (cli_parse_long(optarg, 1, 1000000, &cfg.max_api_keys)) {
                fprintf(stderr, "keyhold: --max-api-keys wants 1..1000000\n");
                goto out;
            }
            break;
        case OPT_JSON:
            json = 1;
            break;
        case OPT_HELP:
            cli_usage("seed", 0);
            status = 0;
            goto out;
        default:
            cli_usage("seed", 1);
            goto out;
        }
    }
    if (!org || !owner || optind < argc) {
        cli_usage("seed", 1);
        goto out;
    }
    struct store *st = NULL;
    struct server_secret secret;
    if ((status = cli_open(&cfg, 1, &st, &secret)))
        goto out;
    if ((status = api_keys_fit(st, org, keys, cfg.max_api_keys))) {
        store_close(st);
        secret_wipe(&secret, sizeof secret);
        goto out;
    }
    int64_t t0 = clock_mono_us();
    int on = 1, off = 0, mode = store_control(st, STORE_CTL_BULK_LOAD, &on);
    int bulk = mode == KH_OK;
    if (mode == KH_EBUSY)
        fprintf(stderr, "keyhold: the store is in use; seeding in the normal (slower) mode\n");
    int rc = seed_tokens(st, &secret, org, owner, tokens);
    if (!rc)
        rc = seed_api_keys(st, &secret, org, owner, keys);
    if (bulk && store_control(st, STORE_CTL_BULK_LOAD, &off) != KH_OK) {
        fprintf(stderr, "keyhold: could not return the store to its normal mode; it will be on the next open\n");
    }
    store_close(st);
    secret_wipe(&secret, sizeof secret);
    if (rc) {
        fprintf(stderr, "keyhold: seeding failed (is %s an org and %s one of its users?)\n", org, owner);
        status = 1;
    } else if (json) {
        cli_print_json(json_pack("{s:I,s:I,s:f}", "tokens", (json_int_t)tokens, "api_keys", (json_int_t)keys,
                                 "seconds", (double)(clock_mono_us() - t0) / 1e6));
    } else {
        printf("seeded %ld tokens and %ld API keys in %.1f s\n", tokens, keys, (double)(clock_mono_us() - t0) / 1e6);
    }
out:
    config_free(&cfg);
    return status;
}
