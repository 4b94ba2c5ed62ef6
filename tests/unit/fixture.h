/* fixture.h - a fresh store with one org and an admin (every permission)
 * provisioned, shared by the store and API tests.
 *
 * On SQLite (the default) the store is a temporary file. With
 * KEYHOLD_TEST_PG set to a PostgreSQL connection URL (tests/pg/cluster.sh
 * starts a throwaway cluster; the Makefile runs the unit tests once each
 * way) it is a schema of its own in that database, made for the fixture and
 * dropped after it, so that every test starts empty. Tests of what only
 * SQLite has (its files) skip themselves on PostgreSQL with SQLITE_ONLY(). */
#ifndef KH_TEST_FIXTURE_H
#define KH_TEST_FIXTURE_H

#include "auth/provision.h"
#include "store/store.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fixture {
    char dsn[512];  /* what store_open is given */
    char path[64];  /* the SQLite file ("" on PostgreSQL) */
    char schema[40]; /* the PostgreSQL schema ("" on SQLite) */
    struct store *st;
    struct server_secret secret;
    struct provisioned admin;
};

/* The PostgreSQL database under test, or NULL for SQLite. */
static inline const char *fixture_pg(void)
{
    const char *pg = getenv("KEYHOLD_TEST_PG");
    return pg && *pg ? pg : NULL;
}

/* Skips the rest of a test on PostgreSQL (what it tests is SQLite's). */
#define SQLITE_ONLY()                                                                                                  \
    do {                                                                                                               \
        if (fixture_pg()) {                                                                                            \
            fprintf(stderr, "  (skipped on PostgreSQL: SQLite only)\n");                                              \
            return;                                                                                                    \
        }                                                                                                              \
    } while (0)

static inline void fixture_pg_quiet(void *arg, const char *message)
{
    (void)arg, (void)message; /* NOTICEs of DROP ... CASCADE */
}

/* Runs one statement on the PostgreSQL database under test. */
static inline void fixture_pg_exec(const char *sql)
{
    PGconn *c = PQconnectdb(fixture_pg());
    PQsetNoticeProcessor(c, fixture_pg_quiet, NULL);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "fixture: %s: %s", sql, PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
    PQfinish(c);
}

/* A new empty store: a temporary file, or a new schema. */
static inline void fixture_new_store(struct fixture *f)
{
    memset(f->path, 0, sizeof f->path);
    memset(f->schema, 0, sizeof f->schema);
    if (fixture_pg()) {
        char sql[96];
        uint8_t r[8];
        secret_random(r, sizeof r);
        snprintf(f->schema, sizeof f->schema, "kh_%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
                 r[6], r[7]);
        snprintf(sql, sizeof sql, "CREATE SCHEMA %s", f->schema);
        fixture_pg_exec(sql);
        snprintf(f->dsn, sizeof f->dsn, "%s%soptions=-csearch_path%%3D%s", fixture_pg(),
                 strchr(fixture_pg(), '?') ? "&" : "?", f->schema);
        return;
    }
    snprintf(f->path, sizeof f->path, "/tmp/kh-test-XXXXXX");
    int fd = mkstemp(f->path);
    close(fd);
    snprintf(f->dsn, sizeof f->dsn, "%s", f->path);
}

static inline void fixture_open(struct fixture *f)
{
    uint8_t master[SECRET_KEY_LEN] = {42};
    char *err = NULL;
    fixture_new_store(f);
    secret_from_master(master, &f->secret);
    if (store_open(f->dsn, &f->st, &err) ||
        provision_org(f->st, &f->secret,
                      &(struct org_spec){.name = "test org", .admin_email = "Admin@Example.com", .first = 1},
                      &f->admin)) {
        fprintf(stderr, "fixture: %s\n", err ? err : "provision failed");
        exit(1);
    }
}

/* Removes the store: the schema, or the file and the files SQLite keeps
 * beside it. */
static inline void fixture_drop_store(struct fixture *f)
{
    if (f->schema[0]) {
        char sql[96];
        snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", f->schema);
        fixture_pg_exec(sql);
        return;
    }
    char wal[80], shm[80], lock[80];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    snprintf(shm, sizeof shm, "%s-shm", f->path);
    snprintf(lock, sizeof lock, "%s-lock", f->path);
    unlink(f->path);
    unlink(wal);
    unlink(shm);
    unlink(lock);
}

/* The change stamp once the announcements of earlier commits have arrived
 * (on PostgreSQL they come a moment after the commit; on SQLite at once):
 * unchanged over four reads 50 ms apart, within three seconds. */
static inline int fixture_settled_stamp(struct store *st, struct store_stamp *out)
{
    struct store_stamp next;
    int rc = store_change_stamp(st, out);
    /* PostgreSQL: the stamp is unknown until the listener thread of a newly
     * opened store is LISTENing, which takes longer on a loaded machine. */
    for (int i = 0; rc == KH_ESTORE && i < 100; i++) {
        usleep(50000);
        rc = store_change_stamp(st, out);
    }
    for (int i = 0; !rc && i < 60; i++) {
        usleep(50000);
        if ((rc = store_change_stamp(st, &next)) != KH_OK)
            break;
        if (next.a == out->a && next.b == out->b && next.c == out->c && i >= 3)
            return KH_OK;
        *out = next;
    }
    return rc;
}

static inline void fixture_close(struct fixture *f)
{
    store_close(f->st);
    f->st = NULL;
    fixture_drop_store(f);
}

#endif
