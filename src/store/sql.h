/* sql.h - the store over SQL (inside src/store/ only).
 *
 * sql.c implements every store operation once, in SQL that SQLite and
 * PostgreSQL both accept, over a small driver: run a statement with
 * parameters, step through its rows, read a column. A backend is a driver
 * plus what only it can do: open (and migrate) a store, tell a change stamp,
 * back up, check, and its controls. The SQL sticks to what both engines
 * share; the few places where they differ (a case-insensitive LIKE and sort,
 * how a write transaction begins) are the driver's dialect.
 *
 * Statements number their parameters ?1, ?2, ... in order of first use; a
 * driver that spells them otherwise (PostgreSQL's $1) rewrites them when it
 * prepares. Every parameter is bound with a type, so an engine that infers
 * types from the statement (PostgreSQL) is told them where the statement
 * cannot tell: sql.c casts those (CAST(?1 AS BIGINT)). */
#ifndef KH_STORE_SQL_H
#define KH_STORE_SQL_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

enum sql_type { SQL_NULL, SQL_INT, SQL_TEXT, SQL_BLOB };

struct sql_param {
    enum sql_type type;
    int64_t i;     /* SQL_INT */
    const char *p; /* SQL_TEXT (NUL-terminated) or SQL_BLOB */
    size_t len;    /* SQL_BLOB */
};

#define SQL_MAX_PARAMS 128 /* a list page read by its ids binds 100 */
/* Room for sql.c's fixed statements in a driver's table of prepared ones. */

#define SQL_MAX_FIXED_STATEMENTS 192

struct sql_params {
    struct sql_param v[SQL_MAX_PARAMS];
    int n;
};

struct sql_store;
struct namecol_set;

/* The rows of a statement being run. Each driver's cursor starts with this. */
struct sql_rows {
    const struct sql_driver *drv;
};

struct sql_dialect {
    const char *like_nocase; /* a LIKE that ignores ASCII case: "LIKE" in SQLite, "ILIKE" in PostgreSQL */
    const char *nocase;      /* printf format turning a column into one sorted without case */
    const char *begin_write; /* what opens a transaction that will write */
    const char *begin_read;  /* what opens a read-only transaction that reads one snapshot */
    /* One row, one integer: what the in-memory token names (namecol.h) may
     * answer on this database: 0 nothing (its LIKE is not lower() and a
     * substring), 1 totals only (it does not order text as bytes), 2 totals
     * and pages (it orders lower(name) and id as bytes). NULL: always 2
     * (SQLite's BINARY and NOCASE). A probe that fails counts as 0. */
    const char *names_probe;
    int64_t names_chunk; /* rows per statement when loading token names (0: one statement for all) */
    /* One statement that moves an org's audit head from the one a handle
     * wrote last and inserts the event, or neither (sql.c, audit_append):
     * S_AUDIT_INSERT's parameters, then the org key, the new count and the
     * old count. NULL: the dialect cannot write two tables in one statement
     * (SQLite), and the head is moved by a statement of its own. */
    const char *audit_append_moving;
};

struct sql_driver {
    const char *name;
    struct sql_dialect dialect;

    /* Runs statements without parameters or rows (transaction control). */
    int (*exec)(struct sql_store *s, const char *sql, const char *what);
    /* Runs sql with params. id >= 0 names one of sql.c's fixed statements,
     * which the driver may keep prepared under that id; -1 a composed one.
     * With rows, the cursor is left at the start (sql_step, then
     * sql_rows_close); without, any rows are dropped. *changed (may be NULL)
     * gets how many rows the statement wrote. Failures are logged with what
     * and mapped to KH_E* codes. */
    int (*query)(struct sql_store *s, int id, const char *sql, const struct sql_params *p, struct sql_rows **rows,
                 int64_t *changed, const char *what);
    /* Moves to the next row: KH_OK with *row 1 (a row) or 0 (no more). */
    int (*step)(struct sql_rows *r, int *row);
    /* Columns of the current row: NULL text for SQL NULL, 0 for a NULL
     * number; text and blobs stay valid until the next step. */
    int (*col_null)(struct sql_rows *r, int col);
    int64_t (*col_int)(struct sql_rows *r, int col);
    const char *(*col_text)(struct sql_rows *r, int col);
    const void *(*col_blob)(struct sql_rows *r, int col, size_t *len);
    void (*rows_close)(struct sql_rows *r);
    /* Non-zero while a transaction is open on the connection. */
    int (*in_transaction)(struct sql_store *s);
    /* Non-zero when the open transaction can no longer commit: a statement
     * in it failed (PostgreSQL's aborted state), or the connection or the
     * engine ended it. */
    int (*failed)(struct sql_store *s);

    /* The schema's migrations, in order, NULL-terminated: the version a
     * store must have to serve is their count. */
    const char *const *migrations;

    /* What only this backend does; NULL when it cannot (the store answers
     * KH_ENOTSUP). */
    void (*close)(struct sql_store *s);
    int (*change_stamp)(struct sql_store *s, struct store_stamp *out);
    int (*backup)(struct sql_store *s, const char *dest, char **err);
    int (*check)(struct sql_store *s, char **report);
    int (*control)(struct sql_store *s, int op, void *arg);
};

/* Every SQL backend's handle starts with this. */
struct sql_store {
    struct store base;
    const struct sql_driver *drv;
    int depth; /* open transactions: 1 = the outermost, deeper ones are savepoints */
    /* A savepoint committed but not released yet (its level, 0 none): the
     * release goes with the next statement that needs it (sql.c, sql_commit),
     * a round trip less per nested transaction on PostgreSQL. */
    int unreleased;
    uint64_t access_taken; /* statements that may take access away, and rollbacks, run here (change stamp's c) */
    struct namecol_set *names; /* the process's in-memory token names of this store (namecol.h), or NULL */
    int names_mode;            /* -1 not probed yet, else what sql_dialect.names_probe answered */
    /* The audit chain head this handle wrote last (sql.c, audit_append): the
     * next event of that org moves the stored head only if it is still this
     * one, saving the read of it. */
    char last_head_org[48];
    int64_t last_head_count;
    uint8_t last_head_hash[32];
    /* The event types one org's enabled webhooks take, read once per write
     * transaction (sql.c, sql_webhook_subscribed): the writer's batch asks
     * at every credential change, and while a write transaction is open no
     * other writer can change them (the write lock); a rollback or a
     * webhook write of this handle forgets them. */
    char subs_org[48];
    int64_t subs_events;
    int subs_known;
};

/* Lets token lists with a name filter be answered from the process's
 * in-memory column of token names (namecol.h), shared by every handle opened
 * with the same key (the dsn). A backend calls it once open when its LIKE
 * and lower() agree as sql.c's token lists need (docs/internals/performance.md). */
void sql_store_share_names(struct sql_store *s, const char *key);

/* Test hook: load token names in chunks of rows (0: the dialect's way), so
 * that the chunked reads are tested on every backend with few rows. */
void sql_test_names_chunk(int64_t rows);

/* The store operations of every SQL backend. */
extern const struct store_ops store_sql_ops;

/* Sets up the common part of a new handle (ops, caps, driver). */
void sql_store_init(struct sql_store *s, const struct sql_driver *drv, unsigned caps);

/* The SQL backends (store.c picks one by the --db value). */
int store_sqlite_open(const char *dsn, struct store **out, char **err);
int store_sqlite_exists(const char *dsn, char **err);
int store_sqlite_replace(const char *dest, const char *src, char **err);
int store_sqlite_hold(const char *dsn, int exclusive, int *hold, char **err);
int store_pg_open(const char *dsn, struct store **out, char **err);
int store_pg_exists(const char *dsn, char **err);

#endif
