/* cli_scan.c - `keyhold scan PATH...`: finds keyhold secrets in files and
 * directories, or with --git in a repository's history read through git
 * itself, offline. The matching is util/scan.c's; this file walks the tree,
 * runs git, keeps its place in git's output and prints what was found:
 * where, what kind, and only what may be shown (a token's public portion,
 * a key's last four characters), never a secret.
 *
 * Exit status, like grep: 0 nothing found, 1 something found, 2 a usage
 * error or a path that could not be read (which wins: the scan was not
 * complete). */
#include "cli/cli.h"

#include "util/leakreport.h"
#include "util/scan.h"
#include "util/secret.h"
#include "util/xmalloc.h"

#include <curl/curl.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

enum { OPT_GIT = 1, OPT_JSON, OPT_INCLUDE_UNVERIFIED, OPT_HELP, OPT_REPORT, OPT_API_KEY, OPT_APP_KEY };

const struct option cli_scan_options[] = {
    {"git", no_argument, NULL, OPT_GIT},
    {"json", no_argument, NULL, OPT_JSON},
    {"include-unverified", no_argument, NULL, OPT_INCLUDE_UNVERIFIED},
    {"help", no_argument, NULL, OPT_HELP},
    {"report", required_argument, NULL, OPT_REPORT},
    {"api-key", required_argument, NULL, OPT_API_KEY},
    {"app-key", required_argument, NULL, OPT_APP_KEY},
    {NULL, 0, NULL, 0},
};

/* Files with a NUL byte in their first BINARY_PROBE bytes are skipped, as
 * git and grep take them for binary. */
#define BINARY_PROBE 8192
#define READ_CHUNK 65536

/* Where the line scan_git is reading lies in `git log -p`'s output: before
 * any commit, in a commit's message, in a file's diff headers, or in a hunk. */
enum git_at { GIT_NONE, GIT_MESSAGE, GIT_DIFF, GIT_HUNK };

struct git_place {
    enum git_at at;
    char commit[65];             /* SHA-1 or SHA-256, hex */
    char *path;                  /* the file the diff is about (owned), or NULL */
    unsigned long header_line;   /* output line of "commit ..." */
    unsigned long old_left;      /* lines of the hunk still to come, old side */
    unsigned long new_left;      /* ... new side */
    unsigned long new_line;      /* number in the new file of the next line */
    int report;                  /* the current line is new text: report its findings */
    int message;                 /* ... of the commit message (else of g->path) */
    unsigned long line;          /* its number (in the file, or in the message) */
    size_t skip;                 /* its prefix ("+", 4 spaces) to take off columns */
};

/* A finding kept for --report: the value (wiped when sent) and where. */
struct found_value {
    char *value;
    size_t len;
    char *where; /* "FILE:LINE" or "COMMIT:FILE:LINE" */
    enum scan_kind kind;
};

/* One run of the command. */
struct scan_run {
    int reporting;         /* --report: keep the values found */
    struct found_value *kept;
    size_t n_kept, cap_kept;
    int json, include_unverified;
    int found;             /* findings printed */
    int failed;            /* paths that could not be read */
    char *chunk;           /* READ_CHUNK bytes to read into */
    struct scan_stream *stream;
    const char *file;      /* the file being scanned (not --git) */
    const char *repo;      /* the repository being scanned (--git) */
    struct git_place git;  /* where in git's output (--git) */
};

/* A JSON string of a path, which need not be UTF-8: bytes that make it
 * invalid are shown as '?' rather than dropping the finding. */
static json_t *json_path(const char *path)
{
    json_t *s = json_string(path);
    if (s)
        return s;
    char *copy = xstrdup(path);
    for (char *c = copy; *c; c++)
        if ((unsigned char)*c >= 0x80 || (unsigned char)*c < 0x20)
            *c = '?';
    s = json_string(copy);
    free(copy);
    return s;
}

/* Prints one finding: file:line (commit:file:line with --git), the kind and
 * what may be shown of it; or one JSON object on a line of its own. file is
 * NULL for a commit message. */
/* Keeps a finding's value for --report, once per value. */
static void keep_value(struct scan_run *r, const char *commit, const char *file, unsigned long line,
                       const struct scan_finding *f)
{
    for (size_t i = 0; i < r->n_kept; i++)
        if (r->kept[i].len == f->value_len && memcmp(r->kept[i].value, f->value, f->value_len) == 0)
            return;
    if (r->n_kept == r->cap_kept)
        r->kept = xrealloc(r->kept, (r->cap_kept = r->cap_kept ? 2 * r->cap_kept : 16) * sizeof *r->kept);
    struct found_value *k = &r->kept[r->n_kept++];
    k->value = xstrndup(f->value, f->value_len);
    k->len = f->value_len;
    k->kind = f->kind;
    k->where = commit ? xasprintf("%s:%s:%lu", commit, file ? file : "(commit message)", line)
                      : xasprintf("%s:%lu", file, line);
}

static void report(struct scan_run *r, const char *commit, const char *file, unsigned long line,
                   unsigned long column, const struct scan_finding *f)
{
    const char *kind = scan_kind_name(f->kind);
    const char *what = f->verified ? "public_portion" : "last4";
    r->found++;
    if (r->reporting)
        keep_value(r, commit, file, line, f);
    if (r->json) {
        json_t *o = json_pack("{s:s,s:I,s:I,s:s,s:b}", "kind", kind, "line", (json_int_t)line, "column",
                              (json_int_t)column, what, f->shown, "verified", f->verified);
        json_object_set_new(o, "file", file ? json_path(file) : json_null());
        if (commit) {
            json_object_set_new(o, "repository", json_path(r->repo));
            json_object_set_new(o, "commit", json_string(commit));
        }
        cli_print_json(o);
        return;
    }
    if (commit)
        printf("%s:%s:%lu: ", commit, file ? file : "(commit message)", line);
    else
        printf("%s:%lu: ", file, line);
    printf("%s %s=%s%s\n", kind, what, f->shown, f->verified ? "" : " (unverified: no checksum)");
}

/* ---- files and directories ---------------------------------------------- */

static void file_found(void *ctx, const struct scan_finding *f)
{
    struct scan_run *r = ctx;
    report(r, NULL, r->file, f->line, f->column, f);
}

static void fail(struct scan_run *r, const char *path, const char *why)
{
    fprintf(stderr, "keyhold: cannot read %s: %s\n", path, why);
    r->failed++;
}

/* Reads up to n bytes, retrying short reads (a regular file gives all it
 * has, but a read may still be interrupted). Returns the count or -1. */
static ssize_t read_full(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

/* Scans what fd gives, named name in findings, in READ_CHUNK pieces; text
 * that starts like a binary file is skipped. */
static void scan_fd(struct scan_run *r, int fd, const char *name)
{
    ssize_t n = read_full(fd, r->chunk, BINARY_PROBE);
    if (n > 0 && memchr(r->chunk, '\0', (size_t)n))
        return;
    r->file = name;
    while (n > 0) {
        scan_stream_feed(r->stream, r->chunk, (size_t)n);
        n = read_full(fd, r->chunk, READ_CHUNK);
    }
    scan_stream_end(r->stream);
    if (n < 0)
        fail(r, name, strerror(errno));
}

/* Scans one regular file. Inside the walk (follow 0), O_NOFOLLOW and the
 * fstat check refuse what was swapped for a symbolic link or a FIFO since
 * the walk looked at it; a path named on the command line is followed. */
static void scan_file(struct scan_run *r, const char *path, int follow)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
    if (fd < 0) {
        fail(r, path, strerror(errno));
        return;
    }
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        scan_fd(r, fd, path);
    close(fd);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of a directory but . and .., sorted (so that output is the
 * same from run to run); the caller frees each and the array. The
 * directory is closed before returning, so a deep tree holds one
 * descriptor at a time. Returns -1 when it cannot be read. */
static int list_dir(const char *path, char ***names, size_t *count)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    size_t n = 0, cap = 16;
    char **v = xmalloc(cap * sizeof *v);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap)
            v = xrealloc(v, (cap *= 2) * sizeof *v);
        v[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    qsort(v, n, sizeof *v, by_name);
    *names = v;
    *count = n;
    return 0;
}

static void scan_path(struct scan_run *r, const char *path, int top);

/* Scans every entry of a directory but git's own (.git, a directory or,
 * in a worktree, a file): its objects are compressed, and --git reads the
 * history through git instead. */
static void scan_dir(struct scan_run *r, const char *path)
{
    char **names;
    size_t n;
    if (list_dir(path, &names, &n)) {
        fail(r, path, strerror(errno));
        return;
    }
    size_t plen = strlen(path);
    int slash = plen > 0 && path[plen - 1] == '/';
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], ".git") != 0) {
            char *child = xasprintf("%s%s%s", path, slash ? "" : "/", names[i]);
            scan_path(r, child, 0);
            free(child);
        }
        free(names[i]);
    }
    free(names);
}

/* A path named on the command line (top) is followed if it is a symbolic
 * link; inside the walk no link is, so that the scan never leaves the tree
 * it was given nor loops (what a link points to inside the tree is scanned
 * where it is). Only regular files are read: a FIFO or a device could
 * block or never end. */
static void scan_path(struct scan_run *r, const char *path, int top)
{
    struct stat st;
    if ((top ? stat(path, &st) : lstat(path, &st)) != 0) {
        fail(r, path, strerror(errno));
        return;
    }
    if (S_ISDIR(st.st_mode))
        scan_dir(r, path);
    else if (S_ISREG(st.st_mode))
        scan_file(r, path, top);
    else if (top)
        fail(r, path, "not a regular file or a directory");
}

/* ---- a repository's history, through git -------------------------------- */

/* Parses "-a[,b] +c[,d] @@" after "@@ " (a count left out is 1). */
static int parse_hunk(const char *s, struct git_place *g)
{
    char *end;
    unsigned long v[4] = {0, 1, 0, 1};
    for (int side = 0; side < 2; side++) {
        if (*s != (side ? '+' : '-'))
            return -1;
        v[2 * side] = strtoul(s + 1, &end, 10);
        if (*end == ',')
            v[2 * side + 1] = strtoul(end + 1, &end, 10);
        if (*end != ' ')
            return -1;
        s = end + 1;
    }
    g->old_left = v[1];
    g->new_left = v[3];
    g->new_line = v[2];
    return 0;
}

/* The path of "+++ b/PATH" or "--- a/PATH" (git ends a name with a space
 * in it with a tab). Replaces g->path. */
static void take_path(struct git_place *g, const char *s, size_t n)
{
    if (n > 0 && s[n - 1] == '\t')
        n--;
    free(g->path);
    g->path = xstrndup(s, n);
}

static int starts(const char *head, size_t n, const char *word)
{
    size_t k = strlen(word);
    return n >= k && memcmp(head, word, k) == 0;
}

/* One line of the diff body of a hunk: new text is reported (a secret is
 * found once, where a commit adds it, not again in the commits that keep
 * it or the one that deletes it). */
static void hunk_line(struct git_place *g, char c)
{
    if (c == '+' && g->new_left > 0) {
        g->report = 1;
        g->line = g->new_line++;
        g->skip = 1;
        g->new_left--;
    } else if (c == ' ' && g->new_left > 0 && g->old_left > 0) {
        g->new_line++;
        g->new_left--;
        g->old_left--;
    } else if (c == '-' && g->old_left > 0) {
        g->old_left--;
    }
    if (g->old_left == 0 && g->new_left == 0)
        g->at = GIT_DIFF;
}

/* Keeps the place in the output of `git log -p` (the format scan_git asks
 * for): "commit SHA", a blank line, the message indented by 4 spaces, then
 * per file "diff --git", headers, and hunks whose lengths say where they
 * end (so a removed "-- x" line is not taken for a "--- a/" header). */
static void git_line(void *ctx, unsigned long line, const char *head, size_t n, int complete)
{
    struct git_place *g = &((struct scan_run *)ctx)->git;
    g->report = g->message = 0;
    if (g->at == GIT_HUNK && n > 0 && (head[0] == '+' || head[0] == '-' || head[0] == ' ' || head[0] == '\\')) {
        hunk_line(g, head[0]);
        return;
    }
    if (starts(head, n, "commit ") && n - 7 < sizeof g->commit) {
        memcpy(g->commit, head + 7, n - 7);
        g->commit[n - 7] = '\0';
        g->at = GIT_MESSAGE;
        g->header_line = line;
        free(g->path);
        g->path = NULL;
    } else if (starts(head, n, "diff --git ")) {
        g->at = GIT_DIFF;
        free(g->path);
        g->path = NULL;
    } else if (g->at == GIT_MESSAGE && starts(head, n, "    ")) {
        g->report = g->message = 1;
        g->line = line - g->header_line - 1;
        g->skip = 4;
    } else if (g->at == GIT_DIFF && starts(head, n, "--- a/") && complete) {
        take_path(g, head + 6, n - 6); /* kept if the file was deleted (+++ /dev/null) */
    } else if (g->at == GIT_DIFF && starts(head, n, "+++ b/") && complete) {
        take_path(g, head + 6, n - 6);
    } else if (g->at == GIT_DIFF && starts(head, n, "@@ ") && complete) {
        char *text = xstrndup(head + 3, n - 3);
        if (parse_hunk(text, g) == 0 && (g->old_left > 0 || g->new_left > 0))
            g->at = GIT_HUNK;
        free(text);
    }
}

static void git_found(void *ctx, const struct scan_finding *f)
{
    struct scan_run *r = ctx;
    struct git_place *g = &r->git;
    if (!g->report)
        return;
    report(r, g->commit, g->message ? NULL : g->path ? g->path : "?", g->line, f->column - g->skip, f);
}

/* Runs git over dir's history and feeds its output to the stream. No shell
 * is involved, and the options ask for exactly the format git_line reads
 * whatever the repository's configuration says (colour, prefixes, external
 * diff and textconv programs, which a repository being inspected should not
 * get to run, relative paths, signatures). Merges are not diffed: what a
 * merge brings in is found in the commits that made it. */
static void scan_git(struct scan_run *r, const char *dir)
{
    char *argv[] = {"git", "-C", (char *)dir, "-c", "core.quotePath=false", "--no-pager", "log", "-p", "--all",
                    "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames", "--no-relative",
                    "--no-show-signature", "--submodule=short", "--src-prefix=a/", "--dst-prefix=b/",
                    "--format=commit %H%n%n%w(0,4,4)%B", NULL};
    int fds[2], status;
    pid_t pid;
    posix_spawn_file_actions_t fa;
    if (pipe(fds)) {
        fail(r, dir, strerror(errno));
        return;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    int rc = posix_spawnp(&pid, "git", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc) {
        close(fds[0]);
        fail(r, dir, rc == ENOENT ? "git is not installed (--git runs it)" : strerror(rc));
        return;
    }
    r->repo = dir;
    memset(&r->git, 0, sizeof r->git);
    ssize_t n;
    while ((n = read(fds[0], r->chunk, READ_CHUNK)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        scan_stream_feed(r->stream, r->chunk, (size_t)n);
    }
    scan_stream_end(r->stream);
    close(fds[0]);
    free(r->git.path);
    r->git.path = NULL;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (n < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail(r, dir, "git log failed (is it a git repository?)");
}

/* ---- --report: the findings to a keyhold server --------------------------- */

/* What the server answered, kept in memory (bounded). */
struct answer {
    char *p;
    size_t len;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct answer *a = arg;
    size_t n = size * nmemb;
    if (a->len + n > 65536)
        return 0; /* an answer this large is not keyhold's: stop */
    a->p = xrealloc(a->p, a->len + n + 1);
    memcpy(a->p + a->len, data, n);
    a->len += n;
    a->p[a->len] = '\0';
    return n;
}

/* The report body: GitHub's partner format, kept values from..to. */
static char *report_body(const struct scan_run *r, size_t from, size_t to, int git)
{
    static const char *const types[] = {[SCAN_PAT] = "keyhold_personal_access_token",
                                        [SCAN_SAT] = "keyhold_service_access_token",
                                        [SCAN_API_KEY] = "keyhold_api_key",
                                        [SCAN_APP_KEY] = "keyhold_application_key"};
    json_t *arr = json_array();
    for (size_t i = from; i < to; i++) {
        const struct found_value *k = &r->kept[i];
        json_t *where = json_path(k->where);
        json_array_append_new(arr, json_pack("{s:s%,s:s,s:o,s:s}", "token", k->value, k->len, "type", types[k->kind],
                                             "url", where, "source", git ? "keyhold scan --git" : "keyhold scan"));
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    /* the tokens are in jansson's strings too */
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        json_t *t = json_object_get(o, "token");
        secret_wipe((char *)json_string_value(t), json_string_length(t));
    }
    json_decref(arr);
    if (!text)
        abort(); /* jansson fails only on allocation failure */
    return text;
}

/* The endpoint: URL as given when it names it, else URL's /api/v2/keyhold/leaks. */
static char *report_url(const char *url)
{
    static const char path[] = "/api/v2/keyhold/leaks";
    size_t n = strlen(url), k = sizeof path - 1;
    if (n >= k && strcmp(url + n - k, path) == 0)
        return xstrdup(url);
    return xasprintf("%.*s%s", (int)(n && url[n - 1] == '/' ? n - 1 : n), url, path);
}

struct report_opts {
    const char *url, *api_key, *app_key;
};

/* Posts one batch; returns 0 (and adds to *matched) or -1 after saying why. */
static int post_batch(CURL *curl, const char *endpoint, const struct report_opts *o, char *body, int64_t *matched)
{
    struct curl_slist *h = NULL;
    struct answer a = {0};
    char *api = o->api_key ? xasprintf("DD-API-KEY: %s", o->api_key) : NULL;
    char *app = xasprintf("DD-APPLICATION-KEY: %s", o->app_key);
    h = curl_slist_append(h, "Content-Type: application/json");
    if (api)
        h = curl_slist_append(h, api);
    h = curl_slist_append(h, app);
    curl_easy_setopt(curl, CURLOPT_URL, endpoint);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    secret_wipe(app, strlen(app));
    free(app);
    if (api)
        secret_wipe(api, strlen(api));
    free(api);
    int ok = rc == CURLE_OK && status >= 200 && status < 300;
    if (rc != CURLE_OK) {
        fprintf(stderr, "keyhold: --report %s: %s\n", endpoint, curl_easy_strerror(rc));
    } else if (!ok) {
        json_t *j = a.p ? json_loads(a.p, 0, NULL) : NULL;
        json_t *e = json_array_get(json_object_get(j, "errors"), 0);
        fprintf(stderr, "keyhold: --report %s: the server answered %ld%s%s\n", endpoint, status, e ? ": " : "",
                json_is_string(e) ? json_string_value(e) : "");
        json_decref(j);
    } else {
        json_t *j = a.p ? json_loads(a.p, 0, NULL) : NULL;
        json_t *m = json_object_get(json_object_get(json_object_get(j, "data"), "attributes"), "matched_in_org");
        *matched += json_is_integer(m) ? json_integer_value(m) : 0;
        json_decref(j);
    }
    free(a.p);
    return ok ? 0 : -1;
}

/* Sends every kept value, LEAK_MAX_ENTRIES a request, and wipes them. */
static int send_report(struct scan_run *r, const struct report_opts *o, int git)
{
    int failed = 0;
    int64_t matched = 0;
    char *endpoint = report_url(o->url);
    CURL *curl = r->n_kept ? curl_easy_init() : NULL;
    if (r->n_kept && !curl) {
        fprintf(stderr, "keyhold: --report: cannot start libcurl\n");
        failed = 1;
    }
    for (size_t from = 0; curl && from < r->n_kept && !failed; from += LEAK_MAX_ENTRIES) {
        size_t to = r->n_kept - from > LEAK_MAX_ENTRIES ? from + LEAK_MAX_ENTRIES : r->n_kept;
        char *body = report_body(r, from, to, git);
        failed = post_batch(curl, endpoint, o, body, &matched) != 0;
        secret_wipe(body, strlen(body));
        free(body);
    }
    if (!failed && r->n_kept)
        fprintf(stderr, "keyhold: reported %zu secret(s) to %s; %lld matched live credentials of your org\n",
                r->n_kept, endpoint, (long long)matched);
    curl_easy_cleanup(curl);
    free(endpoint);
    for (size_t i = 0; i < r->n_kept; i++) {
        secret_wipe(r->kept[i].value, r->kept[i].len);
        free(r->kept[i].value);
        free(r->kept[i].where);
    }
    free(r->kept);
    return failed ? -1 : 0;
}

/* ---- the command ---------------------------------------------------------- */

int cli_scan(int argc, char **argv)
{
    struct scan_run r = {0};
    struct report_opts ro = {0};
    int git = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", cli_scan_options, NULL)) != -1) {
        switch (c) {
        case OPT_GIT:
            git = 1;
            break;
        case OPT_JSON:
            r.json = 1;
            break;
        case OPT_INCLUDE_UNVERIFIED:
            r.include_unverified = 1;
            break;
        case OPT_REPORT:
            ro.url = optarg;
            break;
        case OPT_API_KEY:
            ro.api_key = optarg;
            break;
        case OPT_APP_KEY:
            ro.app_key = optarg;
            break;
        case OPT_HELP:
            cli_usage("scan", 0);
            return 0;
        default:
            cli_usage("scan", 1);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "keyhold: what to scan? Give one or more paths\n");
        cli_usage("scan", 1);
        return 2;
    }
    if (ro.url && (!ro.app_key || !*ro.app_key || (!token_looks_like(ro.app_key, strlen(ro.app_key)) &&
                                                   (!ro.api_key || !*ro.api_key)))) {
        fprintf(stderr, "keyhold: --report needs --api-key and --app-key (DD_API_KEY, DD_APP_KEY), or a personal or "
                        "service access token as --app-key\n");
        return 2;
    }
    if (ro.url && strncmp(ro.url, "http://", 7) != 0 && strncmp(ro.url, "https://", 8) != 0) {
        fprintf(stderr, "keyhold: --report wants an http:// or https:// URL, got '%s'\n", ro.url);
        return 2;
    }
    r.reporting = ro.url != NULL;
    struct scan_sink sink = {git ? git_line : NULL, git ? git_found : file_found, &r};
    r.stream = scan_stream_new(0, r.include_unverified, &sink);
    r.chunk = xmalloc(READ_CHUNK);
    for (int i = optind; i < argc; i++) {
        if (git)
            scan_git(&r, argv[i]);
        else if (strcmp(argv[i], "-") == 0)
            scan_fd(&r, 0, "(standard input)"); /* git diff --cached | keyhold scan - */
        else
            scan_path(&r, argv[i], 1);
    }
    fflush(stdout);
    scan_stream_free(r.stream);
    secret_wipe(r.chunk, READ_CHUNK); /* it held file contents */
    free(r.chunk);
    if (r.reporting && send_report(&r, &ro, git))
        r.failed++;
    return r.failed ? 2 : r.found ? 1 : 0;
}
