/* fuzz_query.c - query-string parsing and every typed reader. */
#include "api/query.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct query_string q;
    char msg[256], *scratch = NULL;
    const char *list[8];
    int64_t v = 0;
    int b = 0;
    if (query_parse((const char *)data, size, &q))
        return 0;
    query_int(&q, "page[size]", 1, 100, &v, msg, sizeof msg);
    query_int(&q, "page[number]", 0, 1000000000, &v, msg, sizeof msg);
    query_bool(&q, "filter[remote_config_read_enabled]", &b, msg, sizeof msg);
    query_time(&q, "filter[created_at][start]", &v, msg, sizeof msg);
    query_get_list(&q, "filter[owned_by]", list, 8, &scratch);
    free(scratch);
    query_get(&q, "sort");
    query_free(&q);
    return 0;
}
