/* fuzz_leakreport.c - leak reports (util/leakreport.c): the partner-format
 * parser on any bytes, then the signature check of the same bytes as a
 * header value against a fixed key, and as a keys file. Must never crash
 * or leak, whatever the bytes. */
#include "util/leakreport.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A P-256 public key (any valid one: the fuzzer cannot forge its signatures). */
static const char keys_file[] =
    "{\"public_keys\":[{\"key_identifier\":\"k\",\"is_current\":true,\"key\":\"-----BEGIN PUBLIC KEY-----\\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEzTnEfr/P+eYEW9rrM+0n18l3ol19\\n"
    "6Bk0PQTJiOqmbO2AQACdkRwPCP0vqxOQzTTOaUcSObo4/Nz4GgC3SflS1Q==\\n"
    "-----END PUBLIC KEY-----\\n\"}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct leak_keys *keys;
    char err[256];
    if (!keys)
        keys = leak_keys_parse(keys_file, strlen(keys_file), err, sizeof err);
    struct leak_report r;
    if (leak_report_parse((const char *)data, size, &r, err, sizeof err) == 0 && r.n == 0)
        abort(); /* an accepted report has entries */
    leak_report_free(&r);
    if (leak_sig_verify(keys, "k", 1, (const char *)data, size, data, size) == LEAK_SIG_OK)
        abort(); /* no input signs itself */
    leak_keys_free(leak_keys_parse((const char *)data, size, err, sizeof err));
    return 0;
}
