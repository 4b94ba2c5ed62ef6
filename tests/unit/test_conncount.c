/* test_conncount.c - open connections per client address (http/conncount.h):
 * the cap per address, addresses apart from each other, IPv4 and IPv6, the
 * count going down as connections close, IPv6 clients by their /64, and entries removed and reused
 * without losing others (backward-shift deletion). */
#include "test.h"

#include "http/conncount.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static struct sockaddr_in v4(const char *text, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, text, &a.sin_addr);
    return a;
}

static void caps_each_address_apart(void)
{
    struct conn_counter *c = conn_counter_new(100);
    struct sockaddr_in a = v4("127.0.0.5", 1000), a_other_port = v4("127.0.0.5", 2000), b = v4("127.0.0.6", 1000);
    for (int i = 0; i < 3; i++)
        CHECK(conn_counter_take(c, (struct sockaddr *)&a, 3));
    CHECK(!conn_counter_take(c, (struct sockaddr *)&a_other_port, 3)); /* the port is not part of it */
    CHECK(conn_counter_take(c, (struct sockaddr *)&b, 3));
    CHECK_INT(conn_counter_of(c, (struct sockaddr *)&a), 3);
    conn_counter_release(c, (struct sockaddr *)&a);
    CHECK(conn_counter_take(c, (struct sockaddr *)&a, 3));
    struct sockaddr_in6 six = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::1", &six.sin6_addr);
    CHECK(conn_counter_take(c, (struct sockaddr *)&six, 1));
    CHECK(!conn_counter_take(c, (struct sockaddr *)&six, 1));
    CHECK_INT(conn_counter_of(c, (struct sockaddr *)&b), 1);
    /* an IPv6 client counts by its /64: a host holding a whole /64 is one */
    struct sockaddr_in6 x = {.sin6_family = AF_INET6}, y = x, z = x;
    inet_pton(AF_INET6, "2001:db8:1:2::10", &x.sin6_addr);
    inet_pton(AF_INET6, "2001:db8:1:2:ffff:1:2:3", &y.sin6_addr);
    inet_pton(AF_INET6, "2001:db8:1:3::10", &z.sin6_addr);
    CHECK(conn_counter_take(c, (struct sockaddr *)&x, 2));
    CHECK(conn_counter_take(c, (struct sockaddr *)&y, 2));
    CHECK(!conn_counter_take(c, (struct sockaddr *)&x, 2));
    CHECK(conn_counter_take(c, (struct sockaddr *)&z, 2)); /* the next /64 is another client */
    conn_counter_free(c);
}

/* Many addresses in and out: every count stays right through removals. */
static void removals_keep_every_other_entry(void)
{
    struct conn_counter *c = conn_counter_new(300);
    char text[32];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 250; i++) {
            snprintf(text, sizeof text, "10.0.%d.%d", i / 200, i % 200);
            struct sockaddr_in a = v4(text, 1);
            CHECK(conn_counter_take(c, (struct sockaddr *)&a, 2));
            if (i % 3 == 0)
                CHECK(conn_counter_take(c, (struct sockaddr *)&a, 2));
        }
        for (int i = 0; i < 250; i += 2) { /* every other address leaves */
            snprintf(text, sizeof text, "10.0.%d.%d", i / 200, i % 200);
            struct sockaddr_in a = v4(text, 1);
            conn_counter_release(c, (struct sockaddr *)&a);
            if (i % 3 == 0)
                conn_counter_release(c, (struct sockaddr *)&a);
        }
        int wrong = 0;
        for (int i = 0; i < 250; i++) {
            snprintf(text, sizeof text, "10.0.%d.%d", i / 200, i % 200);
            struct sockaddr_in a = v4(text, 1);
            size_t want = i % 2 == 0 ? 0 : i % 3 == 0 ? 2 : 1;
            wrong += conn_counter_of(c, (struct sockaddr *)&a) != want;
        }
        CHECK_INT(wrong, 0);
        for (int i = 1; i < 250; i += 2) { /* and the rest */
            snprintf(text, sizeof text, "10.0.%d.%d", i / 200, i % 200);
            struct sockaddr_in a = v4(text, 1);
            conn_counter_release(c, (struct sockaddr *)&a);
            if (i % 3 == 0)
                conn_counter_release(c, (struct sockaddr *)&a);
        }
    }
    conn_counter_free(c);
}

int main(void)
{
    RUN(caps_each_address_apart);
    RUN(removals_keep_every_other_entry);
    return TEST_SUMMARY();
}
