/* namecol.h - an in-memory column of one org's live token names and sort
 * keys, so that a token list with a substring `filter` (store_token_list)
 * answers its exact total and its page without a LIKE over every row (inside
 * src/store/ only; sql.c keeps it up to date and asks it).
 *
 * The column knows rows, never SQL: sql.c fills it from the store in one
 * read transaction and tells it the store revision (token_rev: SQLite
 * migration 010, PostgreSQL 003) the rows are of; a query is answered only
 * for a reader whose snapshot has that very revision (docs/internals/performance.md, "Issue 14: the
 * filtered list from memory", tells why that is exact).
 *
 * One set of columns per store (by its dsn) per process, shared by every
 * handle and thread: a column is used only between namecol_lock() and
 * namecol_unlock(). */
#ifndef KH_STORE_NAMECOL_H
#define KH_STORE_NAMECOL_H

#include <stddef.h>
#include <stdint.h>

struct namecol_set;
struct namecol;

/* One live (unrevoked) token as the column keeps it. */
struct namecol_row {
    const char *id;       /* the row's id as stored (text) */
    const char *lname;    /* lower(name), lowered by the backend itself */
    size_t lname_len;
    const char *owner_id;
    int kind;
    int64_t created_at;
    int64_t expires_at; /* INT64_MAX for NULL (never); any stored value as it is */
};

/* The orders a page can be taken in: those whose SQL order the column can
 * reproduce byte for byte (sql.c decides which, per backend). */
enum namecol_order {
    NAMECOL_COUNT_ONLY = 0, /* the total only; the page stays SQL's */
    NAMECOL_BY_NAME,        /* lower(name) as bytes, shorter first, then id */
    NAMECOL_BY_CREATED,     /* created_at, then id */
};

struct namecol_query {
    const char *filter;  /* as the caller gave it (the memo's key) */
    const char *lfilter; /* lower(filter) by the backend, or NULL when not known yet */
    int kind;            /* 0: any */
    const char *const *owner_ids;
    size_t n_owners; /* 0: any owner */
    int64_t now;     /* tokens expired at now are left out */
    enum namecol_order order;
    int desc;
    int64_t offset, limit;
};

/* The answer: the total and the ids of the page, in order (ids[i] is a
 * canonical UUID, NUL-terminated). */
#define NAMECOL_MAX_PAGE 100
#define NAMECOL_MAX_OWNERS 32
struct namecol_page {
    int64_t total;
    size_t n;
    char ids[NAMECOL_MAX_PAGE][37];
};

/* The set of columns of the store key names (taken: counted; the last
 * namecol_set_release frees it and its columns). */
struct namecol_set *namecol_set_take(const char *key);
void namecol_set_release(struct namecol_set *set);

/* The column of org_id, locked (made empty on first use); never NULL. */
struct namecol *namecol_lock(struct namecol_set *set, const char *org_id);
void namecol_unlock(struct namecol *c);

/* The store revision the column holds, or -1 when it holds nothing yet (or
 * must be built again, e.g. after many updates left dead rows behind). */
int64_t namecol_rev(const struct namecol *c);
/* Forgets every row: the start of a full build (namecol_put each live row,
 * then namecol_done). */
void namecol_clear(struct namecol *c);
/* Adds a live row, replacing the row of the same id if there is one. A row
 * the column cannot judge exactly (an id that is not a canonical UUID, a
 * name that is not UTF-8) makes the column refuse queries until rebuilt. */
void namecol_put(struct namecol *c, const struct namecol_row *r);
/* Drops the row of id, if any (revoked). */
void namecol_remove(struct namecol *c, const char *id);
/* The rows now are those of revision rev: sorts what a full build added and
 * forgets the memo of older revisions. */
void namecol_done(struct namecol *c, int64_t rev);

/* Answers q from the column (held at the reader's revision: the caller
 * checked). KH_OK and *out filled; KH_EINVAL when q->lfilter is NULL and the
 * column does not know the lowered filter (ask the backend, then again);
 * KH_ENOTSUP when the column cannot answer exactly (the SQL path must). */
int namecol_query(struct namecol *c, const struct namecol_query *q, struct namecol_page *out);

/* Pages (not counts alone) answered by every column of the process so far:
 * how the tests know the memory path was taken. */
uint64_t namecol_answers(void);

/* Memory the column holds, in bytes (tests, metrics). */
size_t namecol_bytes(const struct namecol *c);

#endif
