/* test_config.c - what of the settings may be logged. */
#include "test.h"

#include "config.h"

static void store_label_leaves_out_passwords(void)
{
    char out[256];
    config_store_label("postgres://keyhold:s3cret@127.0.0.1:5432/postgres?options=-csearch_path%3Dx&password=y", out,
                       sizeof out);
    CHECK_STR(out, "postgres://keyhold@127.0.0.1:5432/postgres?...");
    config_store_label("postgresql://u@h/db", out, sizeof out);
    CHECK_STR(out, "postgresql://u@h/db");
    config_store_label("postgres://a:b@h", out, sizeof out);
    CHECK_STR(out, "postgres://a@h");
    config_store_label("/var/lib/keyhold/keyhold.db", out, sizeof out);
    CHECK_STR(out, "/var/lib/keyhold/keyhold.db");
}

int main(void)
{
    RUN(store_label_leaves_out_passwords);
    return TEST_SUMMARY();
}
