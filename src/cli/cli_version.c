/* cli_version.c - `keyhold version` (and `keyhold --version`): the version
 * CMake's project() gives the build. */
#include "cli/cli.h"

#include <stdio.h>

#ifndef KEYHOLD_VERSION
#error "KEYHOLD_VERSION comes from CMakeLists.txt"
#endif

static const char USAGE[] = "usage: keyhold version [--json]\n"
                            "\n"
                            "Prints keyhold's version.\n";

int cli_version(int argc, char **argv)
{
    enum { OPT_JSON = 1, OPT_HELP };
    static const struct option options[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int c, json = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (c == OPT_JSON)
            json = 1;
        else if (c == OPT_HELP)
            return cli_usage(USAGE, 0), 0;
        else
            return cli_usage(USAGE, 1), 2;
    }
    if (optind < argc)
        return cli_usage(USAGE, 1), 2;
    if (json)
        cli_print_json(json_pack("{s:s,s:s}", "name", "keyhold", "version", KEYHOLD_VERSION));
    else
        printf("keyhold %s\n", KEYHOLD_VERSION);
    return 0;
}
