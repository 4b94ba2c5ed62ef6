/* store_pg.c - the PostgreSQL backend (libpq): a driver for sql.c, its
 * migrations, and the change stamp that lets every keyhold node on one
 * database refuse a revoked credential within milliseconds.
 *
 * One connection per handle (one handle per thread, as with SQLite). sql.c's
 * fixed statements are prepared on first use per connection, and composed
 * ones (lists) kept prepared by their text, the few most recently used, so
 * that the server does not parse and plan a list page twice over; parameters are
 * sent as text (blobs in binary) with their types, results read as text.
 * Write transactions take one transaction-wide advisory lock first, so that
 * writers are serialized across nodes as SQLite serializes them (a
 * transaction may read, then write on what it read); every node's writer
 * commits many requests in one transaction, so the lock is taken once per
 * batch.
 *
 * Change stamp: every committed change is announced on the channel
 * keyhold_changes (a trigger, schema/postgres/001_init.sql). One listener
 * thread per database per process keeps a connection that LISTENs and
 * counts the announcements; a handle's stamp is that count, with this
 * process's own commits counted at once (they must not wait for their own
 * notification). When the listening connection is lost the stamp is
 * "unknown" (KH_ESTORE: nothing is cached) until it is back, then moves, as
 * announcements may have been missed meanwhile.
 *
 * A lost connection fails the statement under way (KH_ESTORE, answered 503)
 * and is re-established on the next one, at most every RECONNECT_EVERY_MS; a
 * connection string naming several hosts with target_session_attrs=read-write
 * follows a failover to the new primary that way. */
#include "store/sql.h"

#include "util/clock.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char *const store_postgres_migrations[];

#define COMPOSED_CACHE 16 /* composed statements kept prepared per connection */
#define MAX_BLOB_COLUMNS 32 /* columns of a row whose blobs stay readable together */
#define RECONNECT_EVERY_MS 500
#define CONNECT_TIMEOUT_S "3"
#define WRITE_LOCK_KEY "7166513"  /* pg_advisory_xact_lock: serializes keyhold's writers */
#define MIGRATE_LOCK_KEY 7166514L /* pg_advisory_lock: one node migrates at a time */
#define CHANNEL "keyhold_changes"

/* PostgreSQL type ids of the parameters sql.c binds (pg_type.h). */
#define INT8OID 20
#define TEXTOID 25
#define BYTEAOID 17

/* ---- the listener: one per database per process ---- */

struct listener {
    struct listener *next;
    char *dsn;
    int users;
    pthread_t thread;
    atomic_int stop;
    atomic_int healthy;        /* the LISTEN connection is up */
    atomic_uint_fast64_t seen; /* announcements received, plus one per (re)connection */
    atomic_uint_fast64_t mine; /* commits of this process, counted when they return */
};

static pthread_mutex_t listeners_lock = PTHREAD_MUTEX_INITIALIZER;
static struct listener *listeners;

/* Opens a connection with keyhold's defaults, which the dsn may override. */
static PGconn *connect_to(const char *dsn)
{
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const values[] = {CONNECT_TIMEOUT_S, "keyhold", dsn, NULL};
    return PQconnectdbParams(keys, values, 1);
}

static PGconn *listen_on(struct listener *l)
{
    PGconn *c = connect_to(l->dsn);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, "LISTEN " CHANNEL) : NULL;
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

static void *listen_loop(void *arg)
{
    struct listener *l = arg;
    PGconn *c = NULL;
    int said_down = 0;
    while (!atomic_load(&l->stop)) {
        if (!c) {
            if (!(c = listen_on(l))) {
                if (!said_down)
                    log_error("store: lost the PostgreSQL change notifications; the authentication cache is off "
                              "until they are back");
                said_down = 1;
                atomic_store(&l->healthy, 0);
                struct timespec pause = {0, RECONNECT_EVERY_MS * 1000000L};
                nanosleep(&pause, NULL);
                continue;
            }
            if (said_down)
                log_info("store: PostgreSQL change notifications are back; the authentication cache is on");
            said_down = 0;
            atomic_fetch_add(&l->seen, 1); /* what was announced meanwhile is unknown */
            atomic_store(&l->healthy, 1);
        }
        struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
        if (poll(&pfd, 1, 100) < 0)
            continue;
        if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK) {
            atomic_store(&l->healthy, 0);
            PQfinish(c);
            c = NULL;
            continue;
        }
        PGnotify *n;
        while ((n = PQnotifies(c)) != NULL) {
            atomic_fetch_add(&l->seen, 1);
            PQfreemem(n);
        }
    }
    PQfinish(c);
    return NULL;
}

/* The listener of dsn, started on first use. */
static struct listener *listener_take(const char *dsn)
{
    pthread_mutex_lock(&listeners_lock);
    struct listener *l = listeners;
    while (l && strcmp(l->dsn, dsn) != 0)
        l = l->next;
    if (!l) {
        l = xcalloc(1, sizeof *l);
        l->dsn = xstrdup(dsn);
        l->next = listeners;
        listeners = l;
        pthread_create(&l->thread, NULL, listen_loop, l);
    }
    l->users++;
    pthread_mutex_unlock(&listeners_lock);
    return l;
}

static void listener_release(struct listener *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&listeners_lock);
    int last = --l->users == 0;
    if (last) {
        struct listener **p = &listeners;
        while (*p != l)
            p = &(*p)->next;
        *p = l->next;
    }
    pthread_mutex_unlock(&listeners_lock);
    if (!last)
        return;
    atomic_store(&l->stop, 1);
    pthread_join(l->thread, NULL);
    free(l->dsn);
    free(l);
}

/* ---- the handle ---- */

struct pg_rows {
    struct sql_rows base;
    struct pg_store *s;
    PGresult *res;
    int row, rows;
    unsigned char *blobs[MAX_BLOB_COLUMNS]; /* the row's blobs read so far, unescaped, by column */
    const char *what;
};

/* A composed statement kept prepared by its text. */
struct pg_composed {
    char *sql; /* NULL: the slot is free */
    uint64_t used; /* when last asked for, in the connection's count of queries */
};

struct pg_store {
    struct sql_store sql; /* must be first */
    PGconn *conn;
    char *dsn;
    unsigned char prepared[SQL_MAX_FIXED_STATEMENTS];
    struct pg_composed composed[COMPOSED_CACHE]; /* prepared as "c<slot>" */
    uint64_t queries;
    int64_t last_reconnect_ms;
    struct pg_rows cursor; /* the one statement being read (sql.c reads one at a time) */
    struct listener *listener;
};

static const struct sql_driver pg_driver;

static struct pg_store *P(struct sql_store *s)
{
    return (struct pg_store *)s;
}

static void forget_prepared(struct pg_store *s)
{
    memset(s->prepared, 0, sizeof s->prepared);
    for (int i = 0; i < COMPOSED_CACHE; i++) {
        free(s->composed[i].sql);
        s->composed[i].sql = NULL;
        s->composed[i].used = 0;
    }
}

/* Maps a failed result to a KH_E* code by its SQLSTATE, and logs it. */
static int map_result(struct pg_store *s, const PGresult *r, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state && strncmp(state, "23", 2) == 0)
        return KH_ECONFLICT; /* integrity constraint violation */
    if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)) {
        log_warn("store: %s: %s", what, PQresultErrorMessage(r));
        return KH_EBUSY;
    }
    log_error("store: %s: %s", what, r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
    return KH_ESTORE;
}

/* What every session of a handle runs with: PostgreSQL's own messages (the
 * NOTICEs of IF NOT EXISTS) stay out of the log, and a writer waits for the
 * write lock as long as a SQLite writer waits for its busy timeout, then
 * fails with KH_EBUSY (503) instead of waiting for ever. */
static void session_setup(PGconn *c)
{
    PGresult *r = PQexec(c, "SET client_min_messages = warning; SET lock_timeout = '5s'");
    PQclear(r);
}

/* A usable connection, re-established when it was lost (not within an open
 * transaction, which the loss ended, and not more often than every
 * RECONNECT_EVERY_MS). */
static int connected(struct pg_store *s, const char *what)
{
    if (PQstatus(s->conn) == CONNECTION_OK)
        return KH_OK;
    if (s->sql.depth > 0) {
        /* The depth stays: every call fails until the outermost transaction
         * ends (its rollback, or its commit, which then fails), so that
         * nothing of it passes for committed and nothing after the loss
         * runs outside it. */
        log_error("store: %s: the connection was lost within a transaction", what);
        return KH_ESTORE;
    }
    int64_t now = clock_mono_us() / 1000;
    if (now - s->last_reconnect_ms < RECONNECT_EVERY_MS)
        return KH_ESTORE;
    s->last_reconnect_ms = now;
    PQreset(s->conn);
    forget_prepared(s); /* prepared statements go with a session */
    if (PQstatus(s->conn) != CONNECTION_OK) {
        log_error("store: %s: cannot reach PostgreSQL: %s", what, PQerrorMessage(s->conn));
        return KH_ESTORE;
    }
    session_setup(s->conn);
    log_info("store: reconnected to PostgreSQL");
    return KH_OK;
}

/* This process committed: its own change stamp moves at once. */
static void committed(struct pg_store *s)
{
    if (s->listener)
        atomic_fetch_add(&s->listener->mine, 1);
}

/* A COMMIT asked with no transaction to commit: one whose statement failed
 * (rolled back here) or none at all (the connection lost it). */
static int commit_refused(struct pg_store *s, const char *what)
{
    if (PQtransactionStatus(s->conn) == PQTRANS_INERROR) {
        PQclear(PQexec(s->conn, "ROLLBACK"));
        log_error("store: %s: a statement of the transaction failed: rolled back", what);
    } else {
        log_error("store: %s: no transaction to commit (the connection lost it)", what);
    }
    return KH_ESTORE;
}

static int drv_exec(struct sql_store *ss, const char *sql, const char *what)
{
    struct pg_store *s = P(ss);
    int rc = connected(s, what);
    if (rc)
        return rc;
    int commit = strcmp(sql, "COMMIT") == 0;
    if (commit && PQtransactionStatus(s->conn) != PQTRANS_INTRANS)
        return commit_refused(s, what);
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? KH_OK : map_result(s, r, what);
    /* PostgreSQL answers COMMIT of a failed transaction with a rollback: OK,
     * tagged ROLLBACK. */
    if (!rc && commit && strcmp(PQcmdStatus(r), "COMMIT") != 0) {
        log_error("store: %s: the transaction was rolled back (%s)", what, PQcmdStatus(r));
        rc = KH_ESTORE;
    }
    PQclear(r);
    if (!rc && commit)
        committed(s);
    return rc;
}

/* sql.c's ?N placeholders as PostgreSQL's $N. */
static char *dollar_placeholders(const char *sql)
{
    char *out = xstrdup(sql);
    for (char *p = out; *p; p++)
        if (*p == '?' && p[1] >= '0' && p[1] <= '9')
            *p = '$';
    return out;
}

/* Frees the blobs read from the current row (they live until the next step). */
static void forget_blobs(struct pg_rows *c)
{
    for (int i = 0; i < MAX_BLOB_COLUMNS; i++) {
        PQfreemem(c->blobs[i]);
        c->blobs[i] = NULL;
    }
}

static void finish(struct pg_rows *c)
{
    PQclear(c->res);
    forget_blobs(c);
    c->res = NULL;
}

static int run_query(struct pg_store *s, int id, const char *sql, const struct sql_params *p, struct sql_rows **rows,
                     int64_t *changed, const char *what);

/* A read that failed because the connection was lost (the server restarted,
 * or a standby took over) is run once more on a new connection at once: a
 * read is safe to repeat, and the loop's first request after a failover
 * should not be the one answered 503. Writes are not repeated: whether the
 * lost one committed cannot be known. */
/* Prepares sql (with ?N placeholders) as the statement name. */
static int prepare(struct pg_store *s, const char *name, const char *sql, int n, const unsigned *types, const char *what)
{
    char *text = dollar_placeholders(sql);
    PGresult *prep = PQprepare(s->conn, name, text, n, types);
    free(text);
    int rc = PQresultStatus(prep) == PGRES_COMMAND_OK ? KH_OK : map_result(s, prep, what);
    PQclear(prep);
    return rc;
}

/* Names fixed statement id in name[16], preparing it on first use. */
static int fixed_statement(struct pg_store *s, int id, const char *sql, int n, const unsigned *types, char *name,
                           const char *what)
{
    snprintf(name, 16, "k%d", id);
    if (s->prepared[id])
        return KH_OK;
    int rc = prepare(s, name, sql, n, types, what);
    if (!rc)
        s->prepared[id] = 1;
    return rc;
}

/* Names the kept statement for a composed text in name[16], preparing it
 * into the least recently used slot (given up first) when it is not kept. */
static int composed_statement(struct pg_store *s, const char *sql, int n, const unsigned *types, char *name,
                              const char *what)
{
    int slot = 0;
    s->queries++;
    for (int i = 0; i < COMPOSED_CACHE; i++) {
        if (s->composed[i].sql && strcmp(s->composed[i].sql, sql) == 0) {
            s->composed[i].used = s->queries;
            snprintf(name, 16, "c%d", i);
            return KH_OK;
        }
        if (s->composed[i].used < s->composed[slot].used)
            slot = i;
    }
    snprintf(name, 16, "c%d", slot);
    if (s->composed[slot].sql) {
        char deallocate[32];
        snprintf(deallocate, sizeof deallocate, "DEALLOCATE %s", name);
        PGresult *r = PQexec(s->conn, deallocate);
        int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? KH_OK : map_result(s, r, what);
        PQclear(r);
        if (rc)
            return rc;
        free(s->composed[slot].sql);
        s->composed[slot].sql = NULL;
        s->composed[slot].used = 0;
    }
    int rc = prepare(s, name, sql, n, types, what);
    if (!rc)
        s->composed[slot] = (struct pg_composed){.sql = xstrdup(sql), .used = s->queries};
    return rc;
}

static int drv_query(struct sql_store *ss, int id, const char *sql, const struct sql_params *p, struct sql_rows **rows,
                     int64_t *changed, const char *what)
{
    struct pg_store *s = P(ss);
    /* Only a connection this very query lost is retried at once; one that
     * was already down waits for the reconnect throttle (RECONNECT_EVERY_MS),
     * so a stream of requests during an outage does not reconnect, and
     * block its event loop, once each. */
    int was_up = PQstatus(s->conn) == CONNECTION_OK;
    int rc = run_query(s, id, sql, p, rows, changed, what);
    if (rc == KH_ESTORE && rows && was_up && s->sql.depth == 0 && PQstatus(s->conn) == CONNECTION_BAD) {
        s->last_reconnect_ms = 0;
        rc = run_query(s, id, sql, p, rows, changed, what);
    }
    return rc;
}

static int run_query(struct pg_store *s, int id, const char *sql, const struct sql_params *p, struct sql_rows **rows,
                     int64_t *changed, const char *what)
{
    const char *values[SQL_MAX_PARAMS];
    int lengths[SQL_MAX_PARAMS], formats[SQL_MAX_PARAMS];
    unsigned types[SQL_MAX_PARAMS];
    char ints[SQL_MAX_PARAMS][24];
    if (rows)
        *rows = NULL;
    if (changed)
        *changed = 0;
    int rc = connected(s, what);
    if (rc)
        return rc;
    for (int i = 0; i < p->n; i++) {
        const struct sql_param *v = &p->v[i];
        lengths[i] = formats[i] = 0;
        types[i] = 0;
        values[i] = NULL;
        if (v->type == SQL_INT) {
            snprintf(ints[i], sizeof ints[i], "%lld", (long long)v->i);
            values[i] = ints[i], types[i] = INT8OID;
        } else if (v->type == SQL_TEXT) {
            values[i] = v->p, types[i] = TEXTOID;
        } else if (v->type == SQL_BLOB) {
            values[i] = v->p, lengths[i] = (int)v->len, formats[i] = 1, types[i] = BYTEAOID;
        }
    }
    char name[16];
    rc = id >= 0 && id < SQL_MAX_FIXED_STATEMENTS ? fixed_statement(s, id, sql, p->n, types, name, what)
                                               : composed_statement(s, sql, p->n, types, name, what);
    if (rc)
        return rc;
    PGresult *r = PQexecPrepared(s->conn, name, p->n, values, lengths, formats, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rc = map_result(s, r, what);
        PQclear(r);
        return rc;
    }
    if (changed)
        *changed = strtoll(PQcmdTuples(r), NULL, 10);
    if (st == PGRES_COMMAND_OK && PQtransactionStatus(s->conn) == PQTRANS_IDLE)
        committed(s); /* a write outside a transaction commits itself */
    if (!rows) {
        PQclear(r);
        return KH_OK;
    }
    struct pg_rows *c = &s->cursor;
    finish(c);
    *c = (struct pg_rows){.base = {&pg_driver}, .s = s, .res = r, .row = -1, .rows = PQntuples(r), .what = what};
    *rows = &c->base;
    return KH_OK;
}

static struct pg_rows *C(struct sql_rows *r)
{
    return (struct pg_rows *)r;
}

static int drv_step(struct sql_rows *r, int *row)
{
    struct pg_rows *c = C(r);
    forget_blobs(c);
    *row = c->res && ++c->row < c->rows;
    return KH_OK;
}

static int drv_col_null(struct sql_rows *r, int col)
{
    return PQgetisnull(C(r)->res, C(r)->row, col);
}

static int64_t drv_col_int(struct sql_rows *r, int col)
{
    struct pg_rows *c = C(r);
    return PQgetisnull(c->res, c->row, col) ? 0 : strtoll(PQgetvalue(c->res, c->row, col), NULL, 10);
}

static const char *drv_col_text(struct sql_rows *r, int col)
{
    struct pg_rows *c = C(r);
    return PQgetisnull(c->res, c->row, col) ? NULL : PQgetvalue(c->res, c->row, col);
}

static const void *drv_col_blob(struct sql_rows *r, int col, size_t *len)
{
    struct pg_rows *c = C(r);
    *len = 0;
    if (col < 0 || col >= MAX_BLOB_COLUMNS || PQgetisnull(c->res, c->row, col))
        return NULL;
    PQfreemem(c->blobs[col]);
    c->blobs[col] = PQunescapeBytea((const unsigned char *)PQgetvalue(c->res, c->row, col), len);
    return c->blobs[col];
}

static void drv_rows_close(struct sql_rows *r)
{
    finish(C(r));
}

static int drv_in_transaction(struct sql_store *s)
{
    PGTransactionStatusType t = PQtransactionStatus(P(s)->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static int drv_failed(struct sql_store *s)
{
    return PQstatus(P(s)->conn) != CONNECTION_OK || PQtransactionStatus(P(s)->conn) != PQTRANS_INTRANS;
}

/* ---- open, migrate, close ---- */

static int exec_simple(PGconn *c, const char *sql, char **err)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok && err && !*err)
        *err = xasprintf("%s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? KH_OK : KH_ESTORE;
}

static int applied_version(PGconn *c, int64_t *v)
{
    PGresult *r = PQexec(c, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    *v = ok ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return ok ? KH_OK : KH_ESTORE;
}

/* Applies every migration not yet recorded, each in its own transaction,
 * under a session advisory lock: nodes starting together migrate once. */
static int migrate(PGconn *c, char **err)
{
    char lock[64], unlock[64];
    snprintf(lock, sizeof lock, "SELECT pg_advisory_lock(%ld)", MIGRATE_LOCK_KEY);
    snprintf(unlock, sizeof unlock, "SELECT pg_advisory_unlock(%ld)", MIGRATE_LOCK_KEY);
    int rc = exec_simple(c, lock, err);
    if (!rc)
        rc = exec_simple(c, "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
                            "applied_at BIGINT NOT NULL)",
                         err);
    for (int64_t i = 0; !rc && store_postgres_migrations[i]; i++) {
        int64_t have = 0;
        if ((rc = applied_version(c, &have)) || have >= i + 1)
            continue;
        char ins[128];
        snprintf(ins, sizeof ins, "INSERT INTO schema_migrations VALUES (%lld, extract(epoch from now())::bigint)",
                 (long long)(i + 1));
        rc = exec_simple(c, "BEGIN", err);
        if (!rc)
            rc = exec_simple(c, store_postgres_migrations[i], err);
        if (!rc)
            rc = exec_simple(c, ins, err);
        exec_simple(c, rc ? "ROLLBACK" : "COMMIT", rc ? NULL : err);
    }
    exec_simple(c, unlock, NULL);
    return rc;
}

static void drv_close(struct sql_store *ss)
{
    struct pg_store *s = P(ss);
    if (!s)
        return;
    finish(&s->cursor);
    forget_prepared(s);
    listener_release(s->listener);
    PQfinish(s->conn);
    free(s->dsn);
    free(s);
}

int store_pg_open(const char *dsn, struct store **out, char **err)
{
    struct pg_store *s = xcalloc(1, sizeof *s);
    sql_store_init(&s->sql, &pg_driver, STORE_CAP_CHANGE_STAMP | STORE_CAP_SHARED);
    s->dsn = xstrdup(dsn);
    s->conn = connect_to(dsn);
    if (PQstatus(s->conn) != CONNECTION_OK) {
        *err = xasprintf("cannot connect to PostgreSQL: %s", PQerrorMessage(s->conn));
        drv_close(&s->sql);
        return KH_ESTORE;
    }
    exec_simple(s->conn, "SET client_min_messages = warning", NULL);
    if (migrate(s->conn, err)) {
        char *why = *err;
        *err = xasprintf("cannot prepare the PostgreSQL database: %s", why ? why : PQerrorMessage(s->conn));
        free(why);
        drv_close(&s->sql);
        return KH_ESTORE;
    }
    session_setup(s->conn); /* after the migrations, which may wait longer for their lock */
    s->listener = listener_take(dsn);
    sql_store_share_names(&s->sql, dsn); /* ILIKE is lower(name) LIKE lower(pattern) */
    *out = &s->sql.base;
    return KH_OK;
}

int store_pg_exists(const char *dsn, char **err)
{
    PGconn *c = connect_to(dsn);
    if (PQstatus(c) != CONNECTION_OK) {
        *err = xasprintf("cannot connect to PostgreSQL: %s", PQerrorMessage(c));
        PQfinish(c);
        return KH_ESTORE;
    }
    PGresult *r = PQexec(c, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    int rc = PQresultStatus(r) != PGRES_TUPLES_OK ? KH_ESTORE
             : strcmp(PQgetvalue(r, 0, 0), "t") == 0 ? KH_OK
                                                     : KH_ENOTFOUND;
    if (rc == KH_ESTORE)
        *err = xasprintf("cannot read the PostgreSQL database: %s", PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    return rc;
}

/* ---- change stamp, check ---- */

static int drv_change_stamp(struct sql_store *ss, struct store_stamp *out)
{
    struct listener *l = P(ss)->listener;
    if (!l || !atomic_load(&l->healthy))
        return KH_ESTORE;
    out->a = atomic_load(&l->seen);
    out->b = atomic_load(&l->mine);
    return KH_OK;
}

/* PostgreSQL keeps its own integrity (checksums, constraints); what keyhold
 * can check is that the database answers and its references hold. */
static int drv_check(struct sql_store *ss, char **report)
{
    struct pg_store *s = P(ss);
    static const char sql[] = "SELECT (SELECT count(*) FROM app_keys a LEFT JOIN users u ON u.id = a.owner_id "
                              "WHERE u.id IS NULL) + (SELECT count(*) FROM tokens t LEFT JOIN users u ON "
                              "u.id = t.owner_id WHERE u.id IS NULL)";
    *report = NULL;
    int rc = connected(s, "check");
    if (rc)
        return rc;
    PGresult *r = PQexec(s->conn, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = map_result(s, r, "check");
        PQclear(r);
        return rc;
    }
    long long orphans = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    *report = orphans ? xasprintf("%lld keys or tokens whose owner is gone", orphans) : xstrdup("ok");
    return KH_OK;
}

static const struct sql_driver pg_driver = {
    .name = "postgres",
    .migrations = store_postgres_migrations,
    .dialect =
        {
            .like_nocase = "ILIKE",
            .nocase = "lower(%s)",
            .begin_write = "BEGIN; SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY ")",
            .begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            /* ILIKE is lower(name) LIKE lower(pattern) only in a UTF-8
             * database (else it folds byte by byte); and the column's
             * byte order is the database's with the C collation, or glibc's
             * C.UTF-8 (code point order, which is UTF-8 byte order). */
            .names_probe = "SELECT CASE WHEN pg_encoding_to_char(encoding) <> 'UTF8' THEN 0 "
                           "WHEN datlocprovider = 'c' AND datcollate IN ('C', 'POSIX', 'C.UTF-8', 'C.utf8') "
                           "THEN 2 ELSE 1 END FROM pg_database WHERE datname = current_database()",
            /* libpq holds a whole result: a million names in one would be
             * hundreds of MB for a moment. */
            .names_chunk = 65536,
            .audit_append_moving =
                "WITH moved AS (UPDATE audit_heads SET count = ?11, hash = ?9 "
                "WHERE org_key = ?10 AND count = ?12 AND hash = ?8 RETURNING 1) "
                "INSERT INTO audit_events(at, org_id, actor_id, action, target_kind, target_id, source, prev_hash, hash) "
                "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 FROM moved",
        },
    .exec = drv_exec,
    .failed = drv_failed,
    .query = drv_query,
    .step = drv_step,
    .col_null = drv_col_null,
    .col_int = drv_col_int,
    .col_text = drv_col_text,
    .col_blob = drv_col_blob,
    .rows_close = drv_rows_close,
    .in_transaction = drv_in_transaction,
    .close = drv_close,
    .change_stamp = drv_change_stamp,
    .check = drv_check,
};
