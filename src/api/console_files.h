/* console_files.h - the web console's files, embedded at build time by
 * cmake/embed_files.cmake from console/ (the generated console_files.c).
 * Served by console.c; see docs/console.md. */
#ifndef KH_API_CONSOLE_FILES_H
#define KH_API_CONSOLE_FILES_H

#include <stddef.h>

struct console_file {
    const char *name;         /* the file's name under console/, e.g. "app.js" */
    const char *content_type; /* from its extension */
    const unsigned char *data;
    size_t size;
    const char *etag; /* a quoted strong validator: part of the SHA-256 of the bytes */
};

/* Ends with an entry whose name is NULL. */
extern const struct console_file console_files[];

#endif
