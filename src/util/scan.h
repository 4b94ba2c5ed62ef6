/* scan.h - finding keyhold secrets in text, offline (`keyhold scan`).
 *
 * What is recognised, and why it can be trusted without asking a server:
 *   ddpat_/ddsat_ tokens  65 characters whose CRC32 checksum holds
 *                         (util/token.h): a random string passes with a
 *                         chance of 1 in 2^32, so a hit is a real token
 *                         (live or not: only the server knows that).
 *   API keys              32 lowercase hex characters, and
 *   application keys      40 lowercase hex characters (auth/credentials.c):
 *                         no checksum, and 40 hex characters is also what a
 *                         git commit id looks like. They are reported only
 *                         when asked for (include_unverified) and only when
 *                         the 256 bytes before them on the same line name
 *                         them (DD_API_KEY, dd-api-key, apiKey, api_key;
 *                         DD_APP_KEY, DD_APPLICATION_KEY, appKey, app_key,
 *                         application_key), marked unverified.
 * A candidate is a maximal run of [0-9A-Za-z_]: a token inside a longer run
 * (one character too long, glued to a word) is not one.
 *
 * A finding carries only what may be printed: a token's public portion
 * (prefix and alias, which Datadog's API shows too) or a key's last four
 * characters. The secret part leaves this module only through
 * scan_finding.value, for the caller that reports it to its server.
 *
 * Memory is bounded whatever the input: text is fed in pieces of any size
 * and looked at one window of a line at a time; consecutive windows of a
 * long line overlap so that a token across their edge is still found, once. */
#ifndef KH_SCAN_H
#define KH_SCAN_H

#include "util/token.h"

#include <stddef.h>

/* Bytes of one line looked at at once (scan_stream_new's default). */
#define SCAN_WINDOW_DEFAULT 65536
/* How far before a hex key its name may be, on the same line. */
#define SCAN_CONTEXT 256
/* Beyond the last run start a window decides: enough to tell a 65-character
 * token from a 66-character run, and the byte after it. */
#define SCAN_LOOKAHEAD (TOKEN_LEN + 2)
/* The smallest window (tests use it to put tokens across window edges). */
#define SCAN_WINDOW_MIN (2 * (SCAN_CONTEXT + SCAN_LOOKAHEAD))

enum scan_kind { SCAN_PAT = 1, SCAN_SAT, SCAN_API_KEY, SCAN_APP_KEY };

struct scan_finding {
    enum scan_kind kind;
    unsigned long line;   /* 1-based */
    unsigned long column; /* 1-based, in bytes */
    int verified;         /* 1: a token whose checksum holds; 0: a hex key */
    /* What may be shown: "ddpat_<alias>" (the public portion) for a token,
     * the last 4 characters for a key. */
    char shown[TOKEN_ALIAS_LEN + 7];
    /* The whole candidate (value_len bytes, not NUL-terminated), valid only
     * while the sink's found runs: for `keyhold scan --report`, which sends
     * it to the server that can tell whether it is live. Never printed. */
    const char *value;
    size_t value_len;
};

/* Where a stream's results go. line (optional) is called once for every
 * line, before that line's findings, with the line's first bytes (the
 * whole line when complete, else its first window): a caller that reads a
 * structured text (`git log -p`) keeps its place with it. found is called
 * for each finding; f lives until found returns. */
struct scan_sink {
    void (*line)(void *ctx, unsigned long line, const char *head, size_t n, int complete);
    void (*found)(void *ctx, const struct scan_finding *f);
    void *ctx;
};

/* Kind names as printed: "ddpat", "ddsat", "api_key", "application_key". */
const char *scan_kind_name(enum scan_kind kind);

struct scan_stream;
/* A stream owned by the caller (scan_stream_free). window: bytes of a line
 * looked at at once, 0 for SCAN_WINDOW_DEFAULT, at least SCAN_WINDOW_MIN;
 * include_unverified: also report hex keys named on their line. The sink is
 * copied. */
struct scan_stream *scan_stream_new(size_t window, int include_unverified, const struct scan_sink *sink);
/* Feeds the next len bytes of the text; findings go to the sink as soon as
 * they are certain. Lines end at '\n' (a '\r' before it is a separator like
 * any other). */
void scan_stream_feed(struct scan_stream *s, const char *data, size_t len);
/* Ends the text (a last line without '\n' is scanned) and makes the stream
 * ready for another text, from line 1. */
void scan_stream_end(struct scan_stream *s);
/* Wipes what the stream held (it may have been a secret) and frees it;
 * NULL is a no-op. */
void scan_stream_free(struct scan_stream *s);

/* Scans one whole text in memory (feed and end on a fresh stream). */
void scan_text(const char *data, size_t len, int include_unverified, const struct scan_sink *sink);

#endif
