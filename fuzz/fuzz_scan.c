/* fuzz_scan.c - the offline secret scanner (util/scan.c) on arbitrary text,
 * differentially: the findings of the whole input scanned at once must be
 * exactly those of the same input fed in pieces (sizes taken from its first
 * byte) through the smallest window, so that window edges, overlaps and
 * pieces never lose, duplicate or move a finding. Every token finding must
 * be a 65-character run of the input that token_parse accepts, and show only
 * its first 28 characters. */
#include "util/scan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FOUND 256

struct seen {
    struct scan_finding f[MAX_FOUND];
    size_t n;
};

static void on_found(void *ctx, const struct scan_finding *f)
{
    struct seen *s = ctx;
    if (s->n < MAX_FOUND)
        s->f[s->n] = *f;
    s->n++;
}

/* The byte offset in data of line/column, or size when there is none. */
static size_t offset_of(const char *data, size_t size, unsigned long line, unsigned long column)
{
    size_t at = 0;
    for (unsigned long l = 1; l < line; l++) {
        const char *nl = memchr(data + at, '\n', size - at);
        if (!nl)
            return size;
        at = (size_t)(nl - data) + 1;
    }
    return at + column - 1 <= size ? at + column - 1 : size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t piece = 1 + data[0] % 97;
    const char *text = (const char *)data + 1;
    size--;
    struct seen whole = {0}, pieces = {0};
    struct scan_sink a = {NULL, on_found, &whole}, b = {NULL, on_found, &pieces};
    scan_text(text, size, 1, &a);
    struct scan_stream *s = scan_stream_new(SCAN_WINDOW_MIN, 1, &b);
    for (size_t off = 0; off < size; off += piece)
        scan_stream_feed(s, text + off, size - off < piece ? size - off : piece);
    scan_stream_end(s);
    scan_stream_free(s);
    if (whole.n != pieces.n)
        abort();
    for (size_t i = 0; i < whole.n && i < MAX_FOUND; i++) {
        const struct scan_finding *f = &whole.f[i], *g = &pieces.f[i];
        if (f->kind != g->kind || f->line != g->line || f->column != g->column || strcmp(f->shown, g->shown) != 0)
            abort();
        if (!f->verified)
            continue;
        size_t at = offset_of(text, size, f->line, f->column);
        enum token_kind kind;
        char id[UUID_STR], secret[TOKEN_SECRET_LEN + 1];
        if (at + TOKEN_LEN > size || token_parse(text + at, TOKEN_LEN, &kind, id, secret) != 0 ||
            strlen(f->shown) != 28 || memcmp(f->shown, text + at, 28) != 0)
            abort();
    }
    return 0;
}
