/* filelock.c - see filelock.h. */
#include "util/filelock.h"

#include "util/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

char *filelock_path_for(const char *db_path)
{
    char *real = realpath(db_path, NULL);
    if (!real) {
        /* Not there yet (a restore's target): its folder's real path. */
        const char *slash = strrchr(db_path, '/');
        char *dir = slash ? xasprintf("%.*s", (int)(slash - db_path), db_path) : xstrdup(".");
        char *real_dir = realpath(*dir ? dir : "/", NULL);
        char *path = real_dir ? xasprintf("%s/%s-lock", real_dir, slash ? slash + 1 : db_path) : xasprintf("%s-lock", db_path);
        free(dir);
        free(real_dir);
        return path;
    }
    char *path = xasprintf("%s-lock", real);
    free(real);
    return path;
}

int filelock_take(const char *path, int exclusive)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

void filelock_release(int fd)
{
    if (fd >= 0)
        close(fd);
}
