/* gen_cli.c - build-time generator of keyhold's command-line reference.
 *
 * Reads the option source, docs/cli/ (format: docs/cli/README.md):
 *   keyhold.txt   the program: summary, the commands in their order, its
 *                 description and the man page's closing sections;
 *   options.txt   options many commands share (--db, --secret, --json, --help),
 *                 described once;
 *   <words>.txt   one command ("key-list.txt" for `keyhold key list`): its
 *                 summary, synopsis, description and options.
 * and writes the two things made from it, so that they cannot drift apart:
 *   cli_docs.c    the --help text of every command and, per option, flag,
 *                 argument, environment variable, config-file key, default
 *                 and help (struct cli_doc, src/cli/cli_docs.h);
 *   keyhold.1     the man page (roff, man macros).
 * Usage: gen_cli DOCS_DIR VERSION out.c out.1
 * Anything malformed, missing or left over stops the build, naming the file
 * and line. Only the C library: it runs on the build host. */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPTS 64
#define MAX_CMDS 64
#define MAX_SECTIONS 16

struct opt {
    char *flag, *arg, *env, *config, *def, *help; /* flag without the dashes; NULLs when not given */
    int line;
};

/* One source file: header fields, description, options, sections. */
struct doc {
    char *path;
    char *name, *summary, *synopsis, *commands; /* header fields */
    char *desc;
    struct opt opts[MAX_OPTS];
    int n_opts;
    char *sec_title[MAX_SECTIONS], *sec_text[MAX_SECTIONS];
    int n_sec;
};

static void die(const char *path, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "gen_cli: %s:%d: ", path, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "gen_cli: out of memory\n");
        exit(1);
    }
    return p;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static char *dup(const char *s)
{
    return dup_n(s, strlen(s));
}

/* Appends line (and a newline) to *text. */
static void append(char **text, const char *line)
{
    size_t have = *text ? strlen(*text) : 0, len = strlen(line);
    char *t = xmalloc(have + len + 2);
    if (have)
        memcpy(t, *text, have);
    memcpy(t + have, line, len);
    t[have + len] = '\n';
    t[have + len + 1] = '\0';
    free(*text);
    *text = t;
}

/* Drops trailing newlines (blank lines before the next block). */
static void trim(char *text)
{
    if (!text)
        return;
    size_t n = strlen(text);
    while (n && text[n - 1] == '\n')
        text[--n] = '\0';
}

/* "key: value" with key one of keys: returns the index and sets *value. */
static int field(const char *line, const char *const *keys, const char **value)
{
    for (int i = 0; keys[i]; i++) {
        size_t n = strlen(keys[i]);
        if (strncmp(line, keys[i], n) == 0 && line[n] == ':' && (line[n + 1] == ' ' || !line[n + 1])) {
            *value = line[n + 1] ? line + n + 2 : line + n + 1;
            return i;
        }
    }
    return -1;
}

/* "--flag ARG" or "--flag" into o. */
static void parse_flag(struct doc *d, int line, const char *v, struct opt *o)
{
    if (strncmp(v, "--", 2) != 0 || !v[2])
        die(d->path, line, "an option starts with --: '%s'", v);
    const char *sp = strchr(v, ' ');
    o->flag = sp ? dup_n(v + 2, (size_t)(sp - v - 2)) : dup(v + 2);
    o->arg = sp ? dup(sp + 1) : NULL;
    o->line = line;
    for (int i = 0; i < d->n_opts; i++)
        if (strcmp(d->opts[i].flag, o->flag) == 0)
            die(d->path, line, "--%s is described twice", o->flag);
}

static void read_doc(const char *path, struct doc *d)
{
    static const char *const header_keys[] = {"command", "summary", "synopsis", "commands", NULL};
    static const char *const option_keys[] = {"env", "config", "default", NULL};
    FILE *f = fopen(path, "r");
    if (!f)
        die(path, 0, "cannot open");
    memset(d, 0, sizeof *d);
    d->path = dup(path);
    char buf[1024];
    char **last_header = NULL;
    int line = 0;
    enum { HEADER, DESC, OPTION_ATTRS, OPTION_TEXT, SECTION } state = HEADER;
    struct opt *o = NULL;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        size_t len = strlen(buf);
        if (len && buf[len - 1] == '\n')
            buf[--len] = '\0';
        else if (!feof(f))
            die(path, line, "line too long");
        if (strchr(buf, '\t'))
            die(path, line, "a tab: indent with spaces");
        const char *v;
        if (state == HEADER) {
            if (!*buf) {
                state = DESC;
                continue;
            }
            if ((buf[0] == ' ') && last_header) { /* continuation */
                append(last_header, buf);
                continue;
            }
            int k = field(buf, header_keys, &v);
            char **slots[] = {&d->name, &d->summary, &d->synopsis, &d->commands};
            if (k < 0)
                die(path, line, "unknown header line '%s'", buf);
            if (*slots[k])
                die(path, line, "header given twice");
            append(slots[k], v);
            last_header = slots[k];
            continue;
        }
        if (strncmp(buf, "option: ", 8) == 0) {
            if (d->n_opts == MAX_OPTS)
                die(path, line, "too many options");
            o = &d->opts[d->n_opts];
            parse_flag(d, line, buf + 8, o);
            d->n_opts++;
            state = OPTION_ATTRS;
            continue;
        }
        if (strncmp(buf, "section: ", 9) == 0) {
            if (d->n_sec == MAX_SECTIONS)
                die(path, line, "too many sections");
            d->sec_title[d->n_sec++] = dup(buf + 9);
            state = SECTION;
            continue;
        }
        if (state == OPTION_ATTRS) {
            int k = field(buf, option_keys, &v);
            char **slots[] = {&o->env, &o->config, &o->def};
            if (k >= 0) {
                if (*slots[k])
                    die(path, line, "given twice");
                *slots[k] = dup(v);
                continue;
            }
            state = OPTION_TEXT;
        }
        if (state == OPTION_TEXT) {
            if (*buf || o->help)
                append(&o->help, buf);
        } else if (state == SECTION) {
            if (*buf || d->sec_text[d->n_sec - 1])
                append(&d->sec_text[d->n_sec - 1], buf);
        } else if (*buf || d->desc) {
            append(&d->desc, buf);
        }
    }
    fclose(f);
    trim(d->desc);
    for (int i = 0; i < d->n_opts; i++)
        trim(d->opts[i].help);
    for (int i = 0; i < d->n_sec; i++)
        trim(d->sec_text[i]);
    trim(d->name);
    trim(d->summary);
    trim(d->synopsis);
    trim(d->commands);
}

/* The shared description of --flag (options.txt), or NULL. */
static const struct opt *shared_opt(const struct doc *shared, const char *flag)
{
    for (int i = 0; i < shared->n_opts; i++)
        if (strcmp(shared->opts[i].flag, flag) == 0)
            return &shared->opts[i];
    return NULL;
}

/* An option written without a description is the shared one; every
 * command has --help. */
static void resolve(struct doc *d, const struct doc *shared)
{
    int has_help = 0;
    for (int i = 0; i < d->n_opts; i++) {
        struct opt *o = &d->opts[i];
        has_help |= strcmp(o->flag, "help") == 0;
        if (o->help)
            continue;
        const struct opt *s = shared_opt(shared, o->flag);
        if (!s)
            die(d->path, o->line, "--%s has no description here nor in options.txt", o->flag);
        if (o->arg || o->env || o->config || o->def)
            die(d->path, o->line, "--%s: a shared option is taken whole (or described here whole)", o->flag);
        int line = o->line;
        free(o->flag);
        *o = *s; /* shares the strings of options.txt, which live as long as the run */
        o->line = line;
    }
    if (!has_help) {
        const struct opt *s = shared_opt(shared, "help");
        if (!s)
            die(shared->path, 0, "options.txt must describe --help");
        if (d->n_opts == MAX_OPTS)
            die(d->path, 0, "too many options");
        d->opts[d->n_opts++] = *s;
    }
}

/* "key list" -> "DIR/key-list.txt". */
static char *command_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 8;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s.txt", dir, name);
    for (char *c = p + strlen(dir) + 1; *c; c++)
        if (*c == ' ')
            *c = '-';
    return p;
}

/* ---- the --help text ---- */

/* Appends text to *out, each line after indent spaces (blank lines stay blank). */
static void indented(char **out, const char *text, int indent)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *line = xmalloc(n + (size_t)indent + 1);
        memset(line, ' ', n ? (size_t)indent : 0);
        memcpy(line + (n ? indent : 0), p, n);
        line[n + (n ? indent : 0)] = '\0';
        append(out, line);
        free(line);
        p += n + (nl ? 1 : 0);
    }
}

/* "(default: X; environment: KEYHOLD_X)", or NULL when neither is given. */
static char *defaults_note(const struct opt *o)
{
    if (!o->def && !o->env)
        return NULL;
    size_t n = 64 + (o->def ? strlen(o->def) : 0) + (o->env ? strlen(o->env) : 0);
    char *s = xmalloc(n);
    snprintf(s, n, "(%s%s%s%s%s)", o->def ? "default: " : "", o->def ? o->def : "", o->def && o->env ? "; " : "",
             o->env ? "environment: " : "", o->env ? o->env : "");
    return s;
}

static char *help_text(const struct doc *d)
{
    size_t n = strlen(d->name) + strlen(d->synopsis) + 32;
    char *out = NULL, *line = xmalloc(n);
    snprintf(line, n, "usage: keyhold %s %s", d->name, d->synopsis);
    append(&out, line);
    free(line);
    append(&out, "");
    if (d->desc) {
        append(&out, d->desc);
        append(&out, "");
    }
    append(&out, "options:");
    for (int i = 0; i < d->n_opts; i++) {
        const struct opt *o = &d->opts[i];
        char flag[256];
        snprintf(flag, sizeof flag, "  --%s%s%s", o->flag, o->arg ? " " : "", o->arg ? o->arg : "");
        append(&out, flag);
        indented(&out, o->help, 6);
        char *note = defaults_note(o);
        if (note)
            indented(&out, note, 6);
        free(note);
    }
    return out;
}

static char *top_help(const struct doc *top, struct doc *cmds, int n)
{
    char *out = NULL, line[512];
    append(&out, "usage: keyhold COMMAND [OPTIONS]");
    append(&out, "");
    append(&out, top->desc);
    append(&out, "");
    append(&out, "commands:");
    for (int i = 0; i < n; i++) {
        snprintf(line, sizeof line, "  %-14s %s", cmds[i].name, cmds[i].summary);
        append(&out, line);
    }
    append(&out, "");
    append(&out, "`keyhold COMMAND --help` describes each command; `man keyhold` all of them.");
    return out;
}

/* ---- C output ---- */

static void c_string(FILE *f, const char *s)
{
    if (!s) {
        fputs("NULL", f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if (*s == '\n')
            fputs(s[1] ? "\\n\"\n    \"" : "\\n", f);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void write_c(const char *path, const struct doc *top, struct doc *cmds, int n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die(path, 0, "cannot write");
    fputs("/* Generated by tools/gen_cli.c from docs/cli/: do not edit. */\n#include \"cli/cli_docs.h\"\n\n", f);
    for (int i = 0; i < n; i++) {
        fprintf(f, "static const struct cli_doc_option options_%d[] = {\n", i);
        for (int k = 0; k < cmds[i].n_opts; k++) {
            const struct opt *o = &cmds[i].opts[k];
            const char *fields[] = {o->flag, o->arg, o->env, o->config, o->def, o->help};
            fputs("    {", f);
            for (int j = 0; j < 6; j++) {
                c_string(f, fields[j]);
                fputs(j < 5 ? ", " : "},\n", f);
            }
        }
        fputs("};\n\n", f);
    }
    fputs("const struct cli_doc cli_docs[] = {\n", f);
    for (int i = 0; i < n; i++) {
        char *help = help_text(&cmds[i]);
        fputs("    {", f);
        c_string(f, cmds[i].name);
        fputs(", ", f);
        c_string(f, cmds[i].summary);
        fputs(",\n    ", f);
        c_string(f, help);
        fprintf(f, ",\n    options_%d, %d},\n", i, cmds[i].n_opts);
        free(help);
    }
    fprintf(f, "};\n\nconst size_t cli_docs_count = %d;\n\nconst char cli_docs_usage[] = ", n);
    char *usage = top_help(top, cmds, n);
    c_string(f, usage);
    free(usage);
    fputs(";\n", f);
    if (fclose(f))
        die(path, 0, "cannot write");
}

/* ---- roff output ---- */

/* One line of text for roff: backslashes and hyphens escaped, a leading
 * control character neutralised. */
static void roff_line(FILE *f, const char *s, size_t n)
{
    if (n && (s[0] == '.' || s[0] == '\''))
        fputs("\\&", f);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\')
            fputs("\\e", f);
        else if (s[i] == '-')
            fputs("\\-", f);
        else
            fputc(s[i], f);
    }
    fputc('\n', f);
}

/* Text as roff: blank lines become paragraph space; indented lines keep
 * their own line (roff breaks before a line that starts with a space). */
static void roff_text(FILE *f, const char *text)
{
    const char *p = text;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n == 0)
            fputs(".sp\n", f);
        else
            roff_line(f, p, n);
        p += n + (nl ? 1 : 0);
    }
}

static void roff_words(FILE *f, const char *s)
{
    roff_line(f, s, strlen(s));
}

static void write_man(const char *path, const char *version, const struct doc *top, struct doc *cmds, int n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die(path, 0, "cannot write");
    fprintf(f, ".\\\" Generated by tools/gen_cli.c from docs/cli/: do not edit.\n");
    /* Not hyphenated, left-adjusted: option names stay whole, to be searched and copied. */
    fprintf(f, ".TH KEYHOLD 1 \"\" \"keyhold %s\" \"keyhold manual\"\n.nh\n.ad l\n.SH NAME\nkeyhold \\- ", version);
    roff_words(f, top->summary);
    fputs(".SH SYNOPSIS\n.B keyhold\n.I COMMAND\n.RI [ OPTIONS ]\n.SH DESCRIPTION\n", f);
    roff_text(f, top->desc);
    fputs(".SH COMMANDS\n", f);
    for (int i = 0; i < n; i++) {
        const struct doc *d = &cmds[i];
        fputs(".SS \"keyhold ", f);
        fputs(d->name, f);
        fputs("\"\n.nf\n", f);
        size_t len = strlen(d->name) + strlen(d->synopsis) + 16;
        char *syn = xmalloc(len);
        snprintf(syn, len, "keyhold %s %s", d->name, d->synopsis);
        roff_text(f, syn);
        free(syn);
        fputs(".fi\n.PP\n", f);
        roff_text(f, d->desc ? d->desc : d->summary);
        for (int k = 0; k < d->n_opts; k++) {
            const struct opt *o = &d->opts[k];
            fputs(".TP\n.B \\-\\-", f);
            fputs(o->flag, f);
            if (o->arg) {
                fputs(" \\fI", f);
                for (const char *c = o->arg; *c; c++)
                    fputs(*c == '-' ? "\\-" : (char[2]){*c, 0}, f);
                fputs("\\fR", f);
            }
            fputc('\n', f);
            roff_text(f, o->help);
            char *note = defaults_note(o);
            if (note) {
                fputs(".br\n", f);
                roff_words(f, note);
            }
            free(note);
        }
    }
    /* ENVIRONMENT: every variable, with the options it sets. */
    fputs(".SH ENVIRONMENT\nAn option given on the command line overrides its variable.\n", f);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < cmds[i].n_opts; k++) {
            const struct opt *o = &cmds[i].opts[k];
            int first = 1;
            for (int j = 0; j < i && first; j++) /* said already */
                for (int m = 0; m < cmds[j].n_opts; m++)
                    if (cmds[j].opts[m].env && o->env && strcmp(cmds[j].opts[m].env, o->env) == 0)
                        first = 0;
            for (int m = 0; m < k && first; m++)
                if (cmds[i].opts[m].env && o->env && strcmp(cmds[i].opts[m].env, o->env) == 0)
                    first = 0;
            if (!o->env || !first)
                continue;
            fprintf(f, ".TP\n.B %s\n", o->env);
            fputs("Sets \\fB\\-\\-", f);
            fputs(o->flag, f);
            fputs("\\fR of\n", f);
            int listed = 0;
            for (int j = 0; j < n; j++)
                for (int m = 0; m < cmds[j].n_opts; m++)
                    if (cmds[j].opts[m].env && strcmp(cmds[j].opts[m].env, o->env) == 0)
                        fprintf(f, "%s\\fBkeyhold %s\\fR", listed++ ? ",\n" : "", cmds[j].name);
            fputs(".\n", f);
        }
    for (int s = 0; s < top->n_sec; s++) {
        fputs(".SH ", f);
        roff_words(f, top->sec_title[s]);
        roff_text(f, top->sec_text[s]);
    }
    if (fclose(f))
        die(path, 0, "cannot write");
}

/* Every .txt of dir is keyhold.txt, options.txt or a listed command's. */
static void refuse_strays(const char *dir, struct doc *cmds, int n)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    if (!dp)
        die(dir, 0, "cannot list");
    while ((e = readdir(dp))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".txt") != 0 || strcmp(e->d_name, "keyhold.txt") == 0 ||
            strcmp(e->d_name, "options.txt") == 0)
            continue;
        int found = 0;
        for (int i = 0; i < n && !found; i++) {
            const char *base = strrchr(cmds[i].path, '/');
            found = strcmp(base ? base + 1 : cmds[i].path, e->d_name) == 0;
        }
        if (!found)
            die(dir, 0, "%s is no command listed in keyhold.txt", e->d_name);
    }
    closedir(dp);
}

int main(int argc, char **argv)
{
    static struct doc top, shared, cmds[MAX_CMDS];
    int n = 0;
    if (argc != 5) {
        fprintf(stderr, "usage: gen_cli DOCS_DIR VERSION out.c out.1\n");
        return 2;
    }
    const char *dir = argv[1];
    char path[4096];
    snprintf(path, sizeof path, "%s/keyhold.txt", dir);
    read_doc(path, &top);
    snprintf(path, sizeof path, "%s/options.txt", dir);
    read_doc(path, &shared);
    if (!top.summary || !top.commands || !top.desc)
        die(top.path, 0, "needs summary, commands and a description");
    char *list = dup(top.commands);
    for (char *save = NULL, *c = strtok_r(list, ",\n", &save); c; c = strtok_r(NULL, ",\n", &save)) {
        while (*c == ' ')
            c++;
        if (!*c)
            continue;
        if (n == MAX_CMDS)
            die(top.path, 0, "too many commands");
        char *p = command_path(dir, c);
        read_doc(p, &cmds[n]);
        free(p);
        struct doc *d = &cmds[n];
        if (!d->name || strcmp(d->name, c) != 0)
            die(d->path, 1, "'command: %s' must come first", c);
        if (!d->summary || !d->synopsis)
            die(d->path, 1, "needs summary and synopsis");
        if (d->commands || d->n_sec)
            die(d->path, 1, "commands: and section: belong in keyhold.txt");
        resolve(d, &shared);
        n++;
    }
    free(list);
    refuse_strays(dir, cmds, n);
    write_c(argv[3], &top, cmds, n);
    write_man(argv[4], argv[2], &top, cmds, n);
    return 0;
}
