/* cli_version.c - `keyhold version` (and `keyhold --version`): the version
 * CMake's project() gives the build. */
#include "cli/cli.h"

#include <stdio.h>

#ifndef KEYHOLD_VERSION
#error "KEYHOLD_VERSION comes from CMakeLists.txt"
#endif

enum { OPT_JSON = 1, OPT_HELP };

const struct option cli_version_options[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

int cli_version(int argc, char **argv)
{
    int c, json = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", cli_version_options, NULL)) != -1) {
        if (c == OPT_JSON)
            json = 1;
        else if (c == OPT_HELP)
            return cli_usage("version", 0), 0;
        else
            return cli_usage("version", 1), 2;
    }
    if (optind < argc)
        return cli_usage("version", 1), 2;
    if (json)
        cli_print_json(json_pack("{s:s,s:s}", "name", "keyhold", "version", KEYHOLD_VERSION));
    else
        printf("keyhold %s\n", KEYHOLD_VERSION);
    return 0;
}
