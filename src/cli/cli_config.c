/* cli_config.c - a configuration file as options, and --print-config.
 *
 * `--config FILE` (or KEYHOLD_CONFIG) names an INI file of `key = value`
 * lines whose keys are the `config:` names of the command's options in
 * docs/cli/ (one source for flags, variables, keys and help). It is read
 * with libinih (Debian's libinih-dev) and turned into options placed before
 * the environment's, which come before the command line: getopt reads them
 * in that order, so a flag beats its variable, which beats the file, which
 * beats the default. Lines may sit under no section or under one named for
 * the command ("[serve]"); an unknown key, section or switch value is
 * refused with its line, never ignored (a typo must not quietly leave a
 * limit at its default).
 *
 * `--print-config` prints each setting with its value and where it came
 * from, without running the command; the values of credentials are elided. */
#include "cli/cli.h"

#include "cli/cli_docs.h"
#include "util/secret.h"
#include "util/xmalloc.h"

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_switch_value(const char *v)
{
    static const char *const on[] = {"1", "true", "yes", "on"}, *const off[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v, on[i]) == 0)
            return 1;
        if (strcmp(v, off[i]) == 0)
            return 0;
    }
    return -1;
}

/* The options whose values are secrets: never printed. */
static int is_secret(const struct cli_doc_option *o)
{
    return strcmp(o->flag, "api-key") == 0 || strcmp(o->flag, "app-key") == 0;
}

static const struct cli_doc_option *by_key(const struct cli_doc *d, const char *key)
{
    for (size_t k = 0; k < d->n_options; k++)
        if (d->options[k].config && strcmp(d->options[k].config, key) == 0)
            return &d->options[k];
    return NULL;
}

struct reading {
    const struct cli_doc *doc;
    struct cli_settings *out;
    char problem[256]; /* the first one */
};

static void add(struct cli_settings *s, const struct cli_doc_option *o, const char *value)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n].option = o;
    s->v[s->n].value = value ? xstrdup(value) : NULL;
    s->n++;
}

static int on_line(void *user, const char *section, const char *name, const char *value)
{
    struct reading *r = user;
    if (r->problem[0])
        return 0;
    if (section[0] && strcmp(section, r->doc->command) != 0) {
        snprintf(r->problem, sizeof r->problem, "section [%s] is not this command's ([%s])", section,
                 r->doc->command);
        return 0;
    }
    const struct cli_doc_option *o = by_key(r->doc, name);
    if (!o) {
        snprintf(r->problem, sizeof r->problem, "unknown setting '%s' (`keyhold %s --help` lists them)", name,
                 r->doc->command);
        return 0;
    }
    if (o->arg) {
        add(r->out, o, value);
        return 1;
    }
    int on = cli_switch_value(value);
    if (on < 0) {
        snprintf(r->problem, sizeof r->problem, "%s is a switch: true or false, got '%s'", name, value);
        return 0;
    }
    if (on)
        add(r->out, o, NULL);
    return 1;
}

const char *cli_config_path(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
    }
    const char *env = getenv("KEYHOLD_CONFIG");
    return env && *env ? env : NULL;
}

int cli_config_read(const struct cli_doc *d, const char *path, struct cli_settings *out)
{
    struct reading r = {.doc = d, .out = out};
    int line = ini_parse(path, on_line, &r);
    if (line == -1) {
        fprintf(stderr, "keyhold: cannot read the configuration file %s\n", path);
        return 2;
    }
    if (line != 0) {
        fprintf(stderr, "keyhold: %s:%d: %s\n", path, line, r.problem[0] ? r.problem : "not a `key = value` line");
        cli_settings_free(out); /* nothing of a refused file is used */
        return 2;
    }
    return 0;
}

void cli_settings_free(struct cli_settings *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].value) {
            secret_wipe(s->v[i].value, strlen(s->v[i].value));
            free(s->v[i].value);
        }
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- --print-config ---- */

/* The option's value on the command line: 1 with *value (NULL for a
 * switch) when given there; the last one counts, as with getopt. */
static int from_command_line(const struct cli_doc_option *o, int argc, char **argv, const char **value)
{
    size_t len = strlen(o->flag);
    int found = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, o->flag, len) != 0)
            continue;
        if (a[2 + len] == '=' && o->arg)
            *value = a + 3 + len, found = 1;
        else if (a[2 + len] == '\0')
            *value = o->arg && i + 1 < argc ? argv[i + 1] : NULL, found = 1;
    }
    return found;
}

static int from_settings(const struct cli_settings *s, const struct cli_doc_option *o, const char **value)
{
    int found = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].option == o)
            *value = s->v[i].value, found = 1;
    return found;
}

int cli_print_config(const struct cli_doc *d, int argc, char **argv)
{
    struct cli_settings file = {0};
    const char *path = cli_config_path(argc, argv);
    if (path && cli_config_read(d, path, &file))
        return 2;
    printf("# keyhold %s: each setting, and where it comes from (flag > environment > %s > default)\n",
           d->command, path ? path : "configuration file");
    for (size_t k = 0; k < d->n_options; k++) {
        const struct cli_doc_option *o = &d->options[k];
        const char *value = NULL, *env = o->env ? getenv(o->env) : NULL;
        char source[128];
        if (!o->config)
            continue;
        if (from_command_line(o, argc, argv, &value))
            snprintf(source, sizeof source, "flag --%s", o->flag);
        else if (env && *env && (o->arg || cli_switch_value(env) >= 0)) {
            snprintf(source, sizeof source, "environment %s", o->env);
            value = o->arg ? env : cli_switch_value(env) ? NULL : "false";
        } else if (from_settings(&file, o, &value)) {
            snprintf(source, sizeof source, "file %s", path);
        } else {
            snprintf(source, sizeof source, "default");
            value = o->arg ? (o->def ? o->def : "(none)") : "false";
        }
        if (!o->arg && !value)
            value = "true"; /* a switch that is on */
        int elided = is_secret(o) && strcmp(source, "default") != 0;
        printf("%s = %s  # %s\n", o->config, elided ? "(set, not shown)" : value, source);
    }
    cli_settings_free(&file);
    return 0;
}
