/* filelock.h - advisory locks on a file beside a store (flock(2)), so that
 * processes can tell whether a server has the store open. Each `keyhold
 * serve`, and every other command that writes to a store, holds a shared
 * lock on "<db>-lock" while it runs; `keyhold restore` takes it
 * exclusively, so neither can start while the other holds it. The
 * kernel drops a lock with its process, however that process ends. (Not
 * fcntl locks: SQLite's own are those, and closing any descriptor of the
 * store file would drop them.) */
#ifndef KH_FILELOCK_H
#define KH_FILELOCK_H

/* The lock file's path for a store file (malloc'd): beside the file the path
 * really names (symbolic links followed, as SQLite follows them), so every
 * spelling of one store locks the same file. */
char *filelock_path_for(const char *db_path);
/* Opens (creating, 0600) path and locks it, shared or exclusive, without
 * waiting. Returns the descriptor that holds the lock (close it to let go),
 * -1 with errno EWOULDBLOCK when another process holds a conflicting lock,
 * or -1 with another errno. */
int filelock_take(const char *path, int exclusive);
/* Lets go of a lock filelock_take returned (fd < 0: nothing). */
void filelock_release(int fd);

#endif
