/* test_cli_docs.c - the command-line reference (docs/cli/, compiled in as
 * cli_docs) and the code cannot drift apart: every option each command's
 * getopt table accepts is described, and shown by its --help; every option
 * described is accepted, with an argument exactly when the description
 * names one; every command has a description and every description a
 * command; every option of serve names its environment variable; and the
 * variables named are what each command reads before its command line. */
#include "test.h"

#include "cli/cli.h"
#include "cli/cli_docs.h"

#include <stdlib.h>

static const struct cli_doc *doc_of(const char *command)
{
    for (size_t i = 0; i < cli_docs_count; i++)
        if (strcmp(cli_docs[i].command, command) == 0)
            return &cli_docs[i];
    return NULL;
}

static const struct cli_doc_option *doc_option(const struct cli_doc *d, const char *flag)
{
    for (size_t i = 0; i < d->n_options; i++)
        if (strcmp(d->options[i].flag, flag) == 0)
            return &d->options[i];
    return NULL;
}

static const struct option *getopt_option(const struct option *table, const char *flag)
{
    for (const struct option *o = table; o->name; o++)
        if (strcmp(o->name, flag) == 0)
            return o;
    return NULL;
}

static void every_accepted_option_is_described_and_in_help(void)
{
    for (const struct cli_command *c = cli_commands; c->name; c++) {
        const struct cli_doc *d = doc_of(c->name);
        if (!d) {
            fprintf(stderr, "  no description of %s in docs/cli/\n", c->name);
            CHECK(d != NULL);
            continue;
        }
        CHECK(strncmp(d->help, "usage: keyhold ", 15) == 0);
        for (const struct option *o = c->options; o->name; o++) {
            const struct cli_doc_option *od = doc_option(d, o->name);
            char shown[128];
            snprintf(shown, sizeof shown, "  --%s", o->name);
            if (!od || !strstr(d->help, shown))
                fprintf(stderr, "  %s accepts --%s, which docs/cli/ does not describe\n", c->name, o->name);
            CHECK(od != NULL);
            CHECK(strstr(d->help, shown) != NULL);
            if (od && (o->has_arg == required_argument) != (od->arg != NULL))
                fprintf(stderr, "  %s --%s: argument in getopt and docs differ\n", c->name, o->name);
            CHECK(!od || (o->has_arg == required_argument) == (od->arg != NULL));
            CHECK(o->has_arg != optional_argument); /* not describable as one ARG */
        }
    }
}

static void every_described_option_is_accepted(void)
{
    for (size_t i = 0; i < cli_docs_count; i++) {
        const struct cli_doc *d = &cli_docs[i];
        const struct cli_command *c = cli_commands;
        while (c->name && strcmp(c->name, d->command) != 0)
            c++;
        if (!c->name)
            fprintf(stderr, "  docs/cli/ describes %s, which no command runs\n", d->command);
        CHECK(c->name != NULL);
        for (size_t k = 0; c->name && k < d->n_options; k++) {
            if (!getopt_option(c->options, d->options[k].flag))
                fprintf(stderr, "  %s does not accept --%s, which docs/cli/ describes\n", d->command,
                        d->options[k].flag);
            CHECK(getopt_option(c->options, d->options[k].flag) != NULL);
        }
    }
}

/* Every setting of serve can come from a flag, a variable and a file. */
static void every_serve_option_names_its_environment_variable(void)
{
    const struct cli_doc *d = doc_of("serve");
    CHECK(d != NULL);
    for (size_t k = 0; d && k < d->n_options; k++) {
        const struct cli_doc_option *o = &d->options[k];
        /* actions, not settings: --help and --print-config */
        if (strcmp(o->flag, "help") == 0 || strcmp(o->flag, "print-config") == 0)
            continue;
        CHECK(o->env && strncmp(o->env, "KEYHOLD_", 8) == 0);
        CHECK(o->config != NULL || strcmp(o->flag, "config") == 0); /* a file does not name a file */
        char shown[128];
        snprintf(shown, sizeof shown, "environment: %s", o->env ? o->env : "?");
        CHECK(strstr(d->help, shown) != NULL);
    }
}

static void environment_variables_come_before_the_command_line(void)
{
    char *argv[] = {"serve", "--threads", "2", NULL};
    int argc = 3;
    char **out = NULL;
    setenv("KEYHOLD_THREADS", "7", 1);
    setenv("KEYHOLD_TEST_MODE", "1", 1);
    setenv("KEYHOLD_EPHEMERAL", "0", 1);
    unsetenv("KEYHOLD_LISTEN");
    CHECK_INT(cli_env_args("serve", &argc, argv, &out), 0);
    /* serve, then what the environment says, then the command line (which wins). */
    int threads_env = -1, test_mode = -1, threads_cli = -1, ephemeral = -1;
    for (int i = 0; i < argc; i++) {
        if (strcmp(out[i], "--threads=7") == 0)
            threads_env = i;
        if (strcmp(out[i], "--test-mode") == 0)
            test_mode = i;
        if (strcmp(out[i], "--ephemeral") == 0)
            ephemeral = i;
        if (strcmp(out[i], "--threads") == 0)
            threads_cli = i;
    }
    CHECK_STR(out[0], "serve");
    CHECK(threads_env > 0 && test_mode > 0 && threads_cli > threads_env && threads_cli > test_mode);
    CHECK_INT(ephemeral, -1);
    CHECK(out[argc] == NULL);
    cli_env_args_free(out);

    /* A switch's variable wants yes or no. */
    setenv("KEYHOLD_TEST_MODE", "maybe", 1);
    argc = 3;
    CHECK_INT(cli_env_args("serve", &argc, argv, &out), 2);
    CHECK(out == NULL);
    unsetenv("KEYHOLD_TEST_MODE");
    unsetenv("KEYHOLD_THREADS");
    unsetenv("KEYHOLD_EPHEMERAL");

    /* --help is answered whatever the environment says. */
    char *help[] = {"serve", "--help", NULL};
    setenv("KEYHOLD_THREADS", "not a number", 1);
    argc = 2;
    CHECK_INT(cli_env_args("serve", &argc, help, &out), 0);
    CHECK_INT(argc, 2);
    CHECK_STR(out[1], "--help");
    cli_env_args_free(out);
    unsetenv("KEYHOLD_THREADS");
}

int main(void)
{
    RUN(every_accepted_option_is_described_and_in_help);
    RUN(every_described_option_is_accepted);
    RUN(every_serve_option_names_its_environment_variable);
    RUN(environment_variables_come_before_the_command_line);
    return TEST_SUMMARY();
}
