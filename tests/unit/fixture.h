/* fixture.h - a fresh SQLite store in a temporary file, with one org and an
 * admin (every permission) provisioned, shared by the store and API tests. */
#ifndef KH_TEST_FIXTURE_H
#define KH_TEST_FIXTURE_H

#include "auth/provision.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct fixture {
    char path[64];
    struct store *st;
    struct server_secret secret;
    struct provisioned admin;
};

static inline void fixture_open(struct fixture *f)
{
    uint8_t master[SECRET_KEY_LEN] = {42};
    char *err = NULL;
    snprintf(f->path, sizeof f->path, "/tmp/kh-test-XXXXXX");
    int fd = mkstemp(f->path);
    close(fd);
    secret_from_master(master, &f->secret);
    if (store_open(f->path, &f->st, &err) || provision_org(f->st, &f->secret, &(struct org_spec){.name = "test org", .admin_email = "Admin@Example.com", .first = 1}, &f->admin)) {
        fprintf(stderr, "fixture: %s\n", err ? err : "provision failed");
        exit(1);
    }
}

static inline void fixture_close(struct fixture *f)
{
    char wal[80], shm[80];
    store_close(f->st);
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    snprintf(shm, sizeof shm, "%s-shm", f->path);
    unlink(f->path);
    unlink(wal);
    unlink(shm);
}

#endif
