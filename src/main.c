/* main.c - the one binary `keyhold`: dispatch to a subcommand; nothing else
 * (the commands and their table are in cli/). */
#include "cli/cli.h"

#include <sys/stat.h>

int main(int argc, char **argv)
{
    /* Everything keyhold creates (database, WAL, secret) is private. */
    umask(077);
    return cli_main(argc, argv);
}
