/* filelock.c - see filelock.h. */
#include "util/filelock.h"

#include "util/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

char *filelock_path_for(const char *db_path)
{
    return xasprintf("%s-lock", db_path);
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
