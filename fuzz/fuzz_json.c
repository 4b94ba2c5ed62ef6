/* fuzz_json.c - body decoding: jx_parse() with its depth bound, then the
 * strict getters a handler would use on the result. Must never crash or
 * leak, whatever the bytes. */
#include "json/jsonx.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jx jx = {0};
    json_t *root = jx_parse(&jx, (const char *)data, size, 32);
    if (!root)
        return jx.failed ? 0 : (abort(), 0);
    json_t *d = jx_obj(&jx, root, "", "data", 0);
    jx_type(&jx, d, "data", "api_keys");
    json_t *a = jx_obj(&jx, d, "data", "attributes", 0);
    jx_str(&jx, a, "data.attributes", "name", 0, 1, 255);
    jx_bool(&jx, a, "data.attributes", "remote_config_read_enabled", 1);
    jx_arr(&jx, a, "data.attributes", "scopes", 0);
    static const char *const allowed[] = {"name", NULL};
    jx_only(&jx, root, allowed);
    json_decref(root);
    return 0;
}
