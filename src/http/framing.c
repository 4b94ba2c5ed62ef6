/* framing.c - see framing.h. The head was already parsed by libh2o's own
 * parser; this only walks its lines again to count what the parser hides. */
#include "http/framing.h"

#include <string.h>
#include <strings.h>

/* Non-zero when the line [line, end) names the header name. */
static int names(const char *line, const char *end, const char *name)
{
    size_t n = strlen(name);
    return (size_t)(end - line) > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

const char *http_framing_problem(const char *bytes, size_t len)
{
    const char *p = bytes, *end = bytes + len;
    int content_length = 0, transfer_encoding = 0, first = 1;
    /* libh2o's parser skips an empty line before the request line (clients
     * send a CRLF after a POST body): so does this walk, or that one line
     * would end the head before its headers were looked at. */
    while (p < end && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')))
        p += *p == '\n' ? 1 : 2;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        if (line_end > p && line_end[-1] == '\r')
            line_end--;
        if (line_end == p) /* the empty line: the head is over */
            break;
        if (!first) {
            if (*p == ' ' || *p == '\t')
                return "Bad request: header continuation lines (obs-fold) are not accepted";
            content_length += names(p, line_end, "content-length");
            transfer_encoding += names(p, line_end, "transfer-encoding");
        }
        first = 0;
        if (!eol)
            break;
        p = eol + 1;
    }
    if (content_length && transfer_encoding)
        return "Bad request: both Content-Length and Transfer-Encoding are present";
    if (content_length > 1)
        return "Bad request: more than one Content-Length header";
    if (transfer_encoding > 1)
        return "Bad request: more than one Transfer-Encoding header";
    return NULL;
}
