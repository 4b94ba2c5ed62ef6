/* test_framing.c - the request heads refused for ambiguous framing
 * (http/framing.h): duplicate Content-Length, Content-Length beside
 * Transfer-Encoding, obs-fold; and the ordinary ones that must pass,
 * including lines past the head, which are another request's. */
#include "test.h"

#include "http/framing.h"

static const char *problem(const char *head)
{
    return http_framing_problem(head, strlen(head));
}

static void ordinary_heads_pass(void)
{
    CHECK(!problem("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK(!problem("POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"));
    CHECK(!problem("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
    CHECK(!problem("POST /a HTTP/1.1\nContent-Length: 2\n\nhi")); /* bare LF lines */
    /* a header whose name only starts like one that frames */
    CHECK(!problem("POST /a HTTP/1.1\r\nContent-Length-Extra: 1\r\nContent-Length: 1\r\n\r\nx"));
    /* the next pipelined request's headers are not this one's */
    CHECK(!problem("POST /a HTTP/1.1\r\nContent-Length: 0\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
    /* a body that looks like headers is a body */
    CHECK(!problem("POST /a HTTP/1.1\r\nContent-Length: 20\r\n\r\n content-length: 9\r\n"));
    CHECK(!problem(""));
    CHECK(!problem("\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"));
}

static void ambiguous_framing_is_refused(void)
{
    CHECK(problem("POST /a HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\nhello"));
    CHECK(problem("POST /a HTTP/1.1\r\ncontent-length: 5\r\nCONTENT-LENGTH: 5\r\n\r\nhello"));
    CHECK(problem("POST /a HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
    CHECK(problem("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"));
    CHECK(problem("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n"));
    CHECK_STR(problem("GET / HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n"),
              "Bad request: header continuation lines (obs-fold) are not accepted");
    CHECK(problem("GET / HTTP/1.1\r\nX-A: 1\r\n\tfolded\r\n\r\n"));
    /* empty lines before the request line (the parser skips them) do not
     * end the head before its headers */
    CHECK(problem("\r\nPOST /a HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 9\r\n\r\n"));
    CHECK(problem("\nPOST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"));
    CHECK(problem("\r\n\r\nGET / HTTP/1.1\r\nX: 1\r\n folded\r\n\r\n"));
    /* a head cut short (no empty line yet) is judged on what is there */
    CHECK(problem("POST /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2"));
}

int main(void)
{
    RUN(ordinary_heads_pass);
    RUN(ambiguous_framing_is_refused);
    return TEST_SUMMARY();
}
