/* errors.h - the result codes every layer returns.
 *
 * Functions return 0 (KH_OK) or one of these, and hand results back through
 * out-parameters (docs/internals/layout.md, "Errors and answers"). */
#ifndef KH_ERRORS_H
#define KH_ERRORS_H

enum {
    KH_OK = 0,
    KH_ENOTFOUND = 1, /* no such row / object */
    KH_ECONFLICT = 2, /* unique constraint, already exists */
    KH_EINVAL = 3,    /* malformed input */
    KH_ESTORE = 4,    /* storage failed (I/O, corrupt, full) */
    KH_EBUSY = 5,     /* storage locked beyond the busy timeout */
    KH_EIO = 6,       /* file system or OS call failed */
    KH_ECRYPTO = 7,   /* crypto failure, including failed authentication tag */
    KH_ENOTSUP = 8,   /* the backend cannot do that (see store.h, capabilities) */
};

#endif
