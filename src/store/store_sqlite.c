/* store_sqlite.c - the embedded SQLite backend: a driver for sql.c, and what
 * only SQLite does (its files, WAL, change stamp, backup API).
 *
 * One connection per handle (one handle per thread), WAL mode so readers never
 * wait for the writer, synchronous=FULL so an acknowledged write survives a
 * crash or power loss, and a busy timeout so concurrent writers queue instead
 * of failing. sql.c's fixed statements are prepared once per connection and
 * reused; composed ones (lists) are kept by their text, the few most recently
 * used, since a server asks for the same few shapes again and again. */
#include "store/sql.h"

#include "util/buf.h"
#include "util/filelock.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const char *const store_sqlite_migrations[];

#define BUSY_TIMEOUT_MS 5000
/* Composed statements kept per connection. A list's shape is its filters and
 * sort, so a handful covers what clients ask; preparing one cost about a
 * tenth of a PAT page's CPU (issue 14). */
#define COMPOSED_CACHE 16

struct sqlite_rows {
    struct sql_rows base;
    struct sqlite_store *s;
    sqlite3_stmt *stmt;
    const char *what;
};

/* A composed statement kept by its text. */
struct composed {
    char *sql;
    sqlite3_stmt *stmt;
    uint64_t used; /* when last asked for, in the connection's count of queries */
};

struct sqlite_store {
    struct sql_store sql; /* must be first */
    sqlite3 *db;
    sqlite3_stmt *stmts[SQL_MAX_FIXED_STATEMENTS];
    struct composed composed[COMPOSED_CACHE];
    uint64_t queries;
    struct sqlite_rows cursor;          /* the one statement being read (sql.c reads one at a time) */
    int in_memory;                      /* a "memory:" store: no file, no change stamp */
    const volatile uint32_t *wal_index; /* SQLite's mapping of the wal-index header; see change_stamp */
};

static const struct sql_driver sqlite_driver;

static struct sqlite_store *Q(struct sql_store *s)
{
    return (struct sqlite_store *)s;
}

/* Maps an SQLite result code to a KH_E* code, logging real failures. */
static int map_rc(struct sqlite_store *s, int rc, const char *what)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return KH_OK;
    case SQLITE_CONSTRAINT:
        return KH_ECONFLICT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        log_warn("store: %s: database busy", what);
        return KH_EBUSY;
    default:
        log_error("store: %s: %s", what, sqlite3_errmsg(s->db));
        return KH_ESTORE;
    }
}

static int exec_sql(struct sqlite_store *s, const char *sql, const char *what)
{
    return map_rc(s, sqlite3_exec(s->db, sql, NULL, NULL, NULL), what);
}

/* ---- the driver ---- */

static int drv_exec(struct sql_store *s, const char *sql, const char *what)
{
    return exec_sql(Q(s), sql, what);
}

static sqlite3_stmt *prepare(struct sqlite_store *s, const char *sql, const char *what)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        log_error("store: %s: prepare: %s", what, sqlite3_errmsg(s->db));
        return NULL;
    }
    return st;
}

static sqlite3_stmt *reused(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* The kept statement for a composed text, prepared into the least recently
 * used slot when it is not kept yet. */
static sqlite3_stmt *composed_statement(struct sqlite_store *s, const char *sql, const char *what)
{
    struct composed *slot = &s->composed[0];
    s->queries++;
    for (int i = 0; i < COMPOSED_CACHE; i++) {
        struct composed *c = &s->composed[i];
        if (c->sql && strcmp(c->sql, sql) == 0) {
            c->used = s->queries;
            return reused(c->stmt);
        }
        if (c->used < slot->used)
            slot = c;
    }
    sqlite3_stmt *st = prepare(s, sql, what);
    if (!st)
        return NULL;
    sqlite3_finalize(slot->stmt);
    free(slot->sql);
    *slot = (struct composed){.sql = xstrdup(sql), .stmt = st, .used = s->queries};
    return st;
}

/* The statement for id (kept, reset and cleared) or for a composed sql. */
static sqlite3_stmt *statement(struct sqlite_store *s, int id, const char *sql, const char *what)
{
    if (id < 0 || id >= SQL_MAX_FIXED_STATEMENTS)
        return composed_statement(s, sql, what);
    if (!s->stmts[id])
        s->stmts[id] = prepare(s, sql, what);
    return s->stmts[id] ? reused(s->stmts[id]) : NULL;
}

static void bind_params(sqlite3_stmt *st, const struct sql_params *p)
{
    for (int i = 0; i < p->n; i++) {
        const struct sql_param *v = &p->v[i];
        switch (v->type) {
        case SQL_INT:
            sqlite3_bind_int64(st, i + 1, v->i);
            break;
        case SQL_TEXT:
            sqlite3_bind_text(st, i + 1, v->p, -1, SQLITE_TRANSIENT);
            break;
        case SQL_BLOB:
            sqlite3_bind_blob(st, i + 1, v->p, (int)v->len, SQLITE_TRANSIENT);
            break;
        case SQL_NULL:
        default:
            sqlite3_bind_null(st, i + 1);
        }
    }
}

/* Ends the cursor's run; its statement stays kept (fixed or composed). */
static void finish(struct sqlite_rows *c)
{
    if (!c->stmt)
        return;
    sqlite3_reset(c->stmt);
    c->stmt = NULL;
}

static int drv_query(struct sql_store *ss, int id, const char *sql, const struct sql_params *p, struct sql_rows **rows,
                     int64_t *changed, const char *what)
{
    struct sqlite_store *s = Q(ss);
    struct sqlite_rows *c = &s->cursor;
    finish(c); /* a cursor left open by a caller is ended here, before its statement can be replaced */
    sqlite3_stmt *st = statement(s, id, sql, what);
    if (rows)
        *rows = NULL;
    if (!st) {
        int rc = map_rc(s, sqlite3_errcode(s->db), what);
        return rc ? rc : KH_ESTORE; /* no statement is a failure, whatever SQLite's last code says */
    }
    bind_params(st, p);
    *c = (struct sqlite_rows){.base = {&sqlite_driver}, .s = s, .stmt = st, .what = what};
    if (rows) {
        *rows = &c->base;
        return KH_OK;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    rc = map_rc(s, rc, what);
    if (changed)
        *changed = rc ? 0 : sqlite3_changes(s->db);
    finish(c);
    return rc;
}

static struct sqlite_rows *C(struct sql_rows *r)
{
    return (struct sqlite_rows *)r;
}

static int drv_step(struct sql_rows *r, int *row)
{
    struct sqlite_rows *c = C(r);
    int rc = c->stmt ? sqlite3_step(c->stmt) : SQLITE_DONE;
    *row = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KH_OK : map_rc(c->s, rc, c->what);
}

static int drv_col_null(struct sql_rows *r, int col)
{
    return sqlite3_column_type(C(r)->stmt, col) == SQLITE_NULL;
}

static int64_t drv_col_int(struct sql_rows *r, int col)
{
    return sqlite3_column_int64(C(r)->stmt, col);
}

static const char *drv_col_text(struct sql_rows *r, int col)
{
    return (const char *)sqlite3_column_text(C(r)->stmt, col);
}

static const void *drv_col_blob(struct sql_rows *r, int col, size_t *len)
{
    const void *b = sqlite3_column_blob(C(r)->stmt, col);
    *len = (size_t)sqlite3_column_bytes(C(r)->stmt, col);
    return b;
}

static void drv_rows_close(struct sql_rows *r)
{
    finish(C(r));
}

static int drv_in_transaction(struct sql_store *s)
{
    return !sqlite3_get_autocommit(Q(s)->db);
}

/* SQLite keeps a transaction going after a failed statement, unless the
 * failure (SQLITE_FULL, an I/O error) ended it. */
static int drv_failed(struct sql_store *s)
{
    return sqlite3_get_autocommit(Q(s)->db);
}

/* ---- open, migrate, close ---- */

static int applied_version(struct sqlite_store *s, int64_t *v)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1, &st, NULL))
        return map_rc(s, sqlite3_errcode(s->db), "migrations");
    int rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? KH_OK : map_rc(s, rc, "migrations");
}

/* Applies every migration not yet recorded, each in its own IMMEDIATE
 * transaction so that two processes opening a fresh store at once serialize. */
static int migrate(struct sqlite_store *s)
{
    int rc = exec_sql(s, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                         "applied_at INTEGER NOT NULL)",
                      "migrations");
    for (int64_t i = 0; !rc && store_sqlite_migrations[i]; i++) {
        int64_t have = 0;
        if ((rc = exec_sql(s, "BEGIN IMMEDIATE", "migrations")))
            break;
        if (!(rc = applied_version(s, &have)) && have < i + 1) {
            char *ins = sqlite3_mprintf("INSERT INTO schema_migrations VALUES (%lld, strftime('%%s','now'))",
                                        (long long)(i + 1));
            rc = exec_sql(s, store_sqlite_migrations[i], "migration");
            if (!rc)
                rc = exec_sql(s, ins, "migrations");
            sqlite3_free(ins);
        }
        if (rc)
            exec_sql(s, "ROLLBACK", "migrations");
        else
            rc = exec_sql(s, "COMMIT", "migrations");
    }
    return rc;
}

static void drv_close(struct sql_store *ss)
{
    struct sqlite_store *s = Q(ss);
    if (!s)
        return;
    finish(&s->cursor);
    for (int i = 0; i < SQL_MAX_FIXED_STATEMENTS; i++)
        sqlite3_finalize(s->stmts[i]);
    for (int i = 0; i < COMPOSED_CACHE; i++) {
        sqlite3_finalize(s->composed[i].stmt);
        free(s->composed[i].sql);
    }
    s->wal_index = NULL; /* SQLite's own mapping: it goes with the connection */
    /* The last connection to close checkpoints the WAL into the database. */
    sqlite3_close_v2(s->db);
    free(s);
}

/* The file a dsn names: "sqlite:PATH" or PATH. */
static const char *path_of(const char *dsn)
{
    return strncmp(dsn, "sqlite:", 7) == 0 ? dsn + 7 : dsn;
}

/* SQLite's process-wide settings, before its first use. Without memory
 * statistics (which no one reads here), each of SQLite's allocations no
 * longer takes a process-wide mutex that the event loops and the writer
 * all contend for. */
static void configure_sqlite(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int store_sqlite_open(const char *dsn, struct store **out, char **err)
{
    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    pthread_once(&configured, configure_sqlite);
    struct sqlite_store *s = xcalloc(1, sizeof *s);
    int memory = store_dsn_in_memory(dsn);
    sql_store_init(&s->sql, &sqlite_driver, memory ? 0 : STORE_CAP_CHANGE_STAMP | STORE_CAP_BACKUP);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    char *uri = NULL;
    /* "memory:NAME" (store_memory_dsn): SQLite's memdb VFS, whose databases
     * named with a leading '/' are shared by every connection of the
     * process, with the same locking as a file. */
    if (memory) {
        uri = sqlite3_mprintf("file:/keyhold-%s?vfs=memdb", dsn + 7);
        flags |= SQLITE_OPEN_URI;
        s->in_memory = 1;
    }
    int rc = sqlite3_open_v2(uri ? uri : path_of(dsn), &s->db, flags, NULL);
    sqlite3_free(uri);
    if (rc != SQLITE_OK) {
        *err = xasprintf("cannot open database %s: %s", dsn, s->db ? sqlite3_errmsg(s->db) : "out of memory");
        drv_close(&s->sql);
        return KH_ESTORE;
    }
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(s->db, 1);
    /* A 64 MiB page cache per connection (SQLite's default is 2 MiB): with a
     * million tokens the hot index pages stay in memory instead of being
     * read again with pread() on every list page and insert. Temporary
     * storage in memory: an insert that fires a trigger (token_counts) keeps
     * a statement journal, which in a temporary file cost about twenty
     * pwrite() calls per inserted token. */
    rc = exec_sql(s,
                  "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
                  "PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
                  "pragmas");
    if (!rc)
        rc = migrate(s);
    if (rc) {
        *err = xasprintf("cannot prepare database %s: %s", dsn, sqlite3_errmsg(s->db));
        drv_close(&s->sql);
        return rc;
    }
    /* Without ICU, SQLite's LIKE and lower() both fold ASCII only, which
     * the in-memory name column relies on; with it they differ (LIKE folds
     * case, lower() lowers), so such a build lists from SQL only. */
    if (!sqlite3_compileoption_used("ENABLE_ICU"))
        sql_store_share_names(&s->sql, dsn);
    *out = &s->sql.base;
    return KH_OK;
}

/* A hold is a flock(2) on "<file>-lock" beside the store file (util/filelock.h). */
int store_sqlite_hold(const char *dsn, int exclusive, int *hold, char **err)
{
    if (store_dsn_in_memory(dsn))
        return KH_OK; /* nothing can replace it */
    char *path = filelock_path_for(path_of(dsn));
    *hold = filelock_take(path, exclusive);
    int rc = *hold >= 0 ? KH_OK : errno == EWOULDBLOCK ? KH_EBUSY : KH_EIO;
    if (rc == KH_EIO)
        *err = xasprintf("cannot lock %s: %s", path, strerror(errno));
    free(path);
    return rc;
}

int store_sqlite_exists(const char *dsn, char **err)
{
    struct stat sb;
    if (store_dsn_in_memory(dsn) || stat(path_of(dsn), &sb) == 0)
        return KH_OK;
    if (errno == ENOENT)
        return KH_ENOTFOUND;
    *err = xasprintf("cannot reach the store %s: %s", dsn, strerror(errno));
    return KH_EIO;
}

/* ---- backup and restore ---- */

/* Online backup with SQLite's backup API, a few hundred pages per step so
 * that writers are never blocked for long; the copy is a consistent snapshot
 * (the backup restarts itself if the source changes under it). The copy is
 * written to a temporary name and renamed into place, so dest is either
 * absent or complete. */
static int drv_backup(struct sql_store *ss, const char *dest, char **err)
{
    struct sqlite_store *s = Q(ss);
    sqlite3 *out = NULL;
    char *tmp = xasprintf("%s.partial", path_of(dest));
    int rc = sqlite3_open_v2(tmp, &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    sqlite3_backup *b = rc == SQLITE_OK ? sqlite3_backup_init(out, "main", s->db, "main") : NULL;
    if (b) {
        do {
            rc = sqlite3_backup_step(b, 256);
            if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
                sqlite3_sleep(5);
        } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
        rc = sqlite3_backup_finish(b);
    } else if (rc == SQLITE_OK) {
        rc = sqlite3_errcode(out);
    }
    if (rc != SQLITE_OK)
        *err = xasprintf("backup to %s failed: %s", dest, out ? sqlite3_errmsg(out) : "cannot open");
    sqlite3_close_v2(out);
    if (rc == SQLITE_OK && rename(tmp, path_of(dest)) != 0) {
        *err = xasprintf("cannot move the backup into place at %s", dest);
        rc = SQLITE_IOERR;
    }
    if (rc != SQLITE_OK)
        unlink(tmp);
    free(tmp);
    return rc == SQLITE_OK ? KH_OK : KH_ESTORE;
}

int store_sqlite_replace(const char *dest, const char *src, char **err)
{
    struct store *from = NULL;
    /* The old store's WAL and shared-memory files belong to the old file:
     * left beside the restored one they would be replayed into it. */
    char *wal = xasprintf("%s-wal", path_of(dest)), *shm = xasprintf("%s-shm", path_of(dest));
    int rc = store_sqlite_open(src, &from, err);
    if (!rc) {
        unlink(wal);
        unlink(shm);
        rc = drv_backup((struct sql_store *)from, dest, err);
    }
    store_close(from);
    free(wal);
    free(shm);
    return rc;
}

static int drv_check(struct sql_store *ss, char **report)
{
    struct sqlite_store *s = Q(ss);
    sqlite3_stmt *q;
    struct buf b;
    *report = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &q, NULL) != SQLITE_OK)
        return map_rc(s, sqlite3_errcode(s->db), "check");
    buf_init(&b, 64 * 1024);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const unsigned char *line = sqlite3_column_text(q, 0);
        buf_printf(&b, "%s%s", b.len ? "\n" : "", line ? (const char *)line : "");
    }
    sqlite3_finalize(q);
    *report = buf_steal(&b, NULL);
    return rc == SQLITE_DONE ? KH_OK : map_rc(s, rc, "check");
}

/* ---- change stamp ----
 *
 * The change stamp of a WAL database is read from the wal-index header that
 * SQLite keeps at the start of the -shm file, shared by every connection of
 * every process (format: https://www.sqlite.org/walformat.html, "The
 * WAL-Index Header"). Each commit increments iChange and moves mxFrame (the
 * last valid frame), and a WAL restart changes the salts, so the tuple
 * (iChange, mxFrame, salt-1, salt-2) of the first header copy, which SQLite
 * writes last and behind a memory barrier, differs after every commit. A torn
 * read can only look changed, never unchanged.
 *
 * The header is reached through SQLite's own mapping of the wal-index (the
 * VFS's xShmMap on this connection's file), never by opening the -shm file
 * again: closing any descriptor of a file drops every POSIX lock the process
 * holds on it, and without its lock on the -shm a process looks gone, so the
 * next process to open the database (`keyhold user add` beside a running
 * server) truncates the -shm under the server's mapping, which then dies of
 * SIGBUS. The mapping is asked for on first use; a database not in WAL
 * mode, or a header of another version, gives KH_ESTORE, and callers then
 * do not cache. */
#define WAL_INDEX_VERSION 3007000u
#define WAL_INDEX_REGION 32768 /* SQLite's wal-index page size: every mapping of the -shm uses it */

static int map_wal_index(struct sqlite_store *s)
{
    sqlite3_file *f = NULL;
    void volatile *region = NULL;
    if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || !f || !f->pMethods ||
        f->pMethods->iVersion < 2 || !f->pMethods->xShmMap)
        return KH_ESTORE;
    if (f->pMethods->xShmMap(f, 0, WAL_INDEX_REGION, 0, &region) != SQLITE_OK || !region)
        return KH_ESTORE;
    s->wal_index = region;
    return KH_OK;
}

static int drv_change_stamp(struct sql_store *ss, struct store_stamp *out)
{
    struct sqlite_store *s = Q(ss);
    if (s->in_memory || (!s->wal_index && map_wal_index(s)))
        return KH_ESTORE;
    atomic_thread_fence(memory_order_acquire);
    const volatile uint32_t *h = s->wal_index; /* words: 0 iVersion, 2 iChange, 4 mxFrame, 8-9 aSalt */
    if (h[0] != WAL_INDEX_VERSION)
        return KH_ESTORE;
    out->a = (uint64_t)h[2] << 32 | h[4];
    out->b = (uint64_t)h[8] << 32 | h[9];
    return KH_OK;
}

/* ---- controls ----
 *
 * STORE_CTL_BULK_LOAD: in WAL mode every page a load writes is written
 * twice: to the WAL, then by the checkpoint into the database. A rollback
 * journal only keeps the old content of pages that existed before the
 * transaction, and a load in key order mostly adds new pages, so they are
 * written once. Leaving WAL mode needs the only connection to the file; with
 * others open it fails with SQLITE_BUSY and the load stays in WAL mode. A
 * bigger page cache keeps a whole batch's pages in memory until its commit. */
static int bulk_load(struct sqlite_store *s, int on)
{
    s->wal_index = NULL; /* leaving WAL mode unmaps it; asked for again when next needed */
    if (on) {
        int rc = exec_sql(s, "PRAGMA journal_mode = DELETE", "bulk mode");
        if (!rc)
            rc = exec_sql(s, "PRAGMA cache_size = -1048576", "bulk mode");
        return rc;
    }
    return exec_sql(s, "PRAGMA cache_size = -65536; PRAGMA journal_mode = WAL", "normal mode");
}

static int drv_control(struct sql_store *ss, int op, void *arg)
{
    switch (op) {
    case STORE_CTL_BULK_LOAD:
        return bulk_load(Q(ss), *(const int *)arg);
    default:
        return KH_ENOTSUP;
    }
}

static const struct sql_driver sqlite_driver = {
    .name = "sqlite",
    .migrations = store_sqlite_migrations,
    .dialect =
        {
            .like_nocase = "LIKE", /* SQLite's LIKE ignores ASCII case */
            .nocase = "%s COLLATE NOCASE",
            .begin_write = "BEGIN IMMEDIATE",
            .begin_read = "BEGIN",
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
    .backup = drv_backup,
    .check = drv_check,
    .control = drv_control,
};
