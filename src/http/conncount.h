/* conncount.h - open connections per client address, over every event loop
 * of the process, so that one address cannot hold every connection the
 * server has (docs/security.md, "Connections"). Thread-safe: the loops
 * share one counter. */
#ifndef KH_CONNCOUNT_H
#define KH_CONNCOUNT_H

#include <stddef.h>
#include <sys/socket.h>

struct conn_counter;

/* A counter for at most max_open connections at once (the global cap). */
struct conn_counter *conn_counter_new(size_t max_open);
void conn_counter_free(struct conn_counter *c);

/* Counts one more connection of the address of sa, unless the address
 * already has `cap` or the counter is full: then returns 0 and counts
 * nothing. */
int conn_counter_take(struct conn_counter *c, const struct sockaddr *sa, size_t cap);
/* Counts one connection of that address fewer (one that take counted). */
void conn_counter_release(struct conn_counter *c, const struct sockaddr *sa);
/* How many connections the address of sa has open. */
size_t conn_counter_of(struct conn_counter *c, const struct sockaddr *sa);

#endif
