/* store_faulty.c - a fault-injecting hook on the store_*() wrappers. */
#include "store_faulty.h"

#include "store/store.h"

#include <string.h>

static int fail_at, fail_code, calls;

static int hook(const char *op)
{
    /* Rollback is how callers recover from an injected fault; failing it too
     * would test nothing a real backend does (SQLite rolls back on I/O
     * errors itself). */
    if (strcmp(op, "rollback") == 0)
        return KH_OK;
    calls++;
    return fail_at && calls >= fail_at ? fail_code : KH_OK;
}

void faulty_fail_after(int countdown, int code)
{
    calls = 0;
    fail_at = countdown;
    fail_code = code;
    store_set_fault_hook(hook);
}

void faulty_off(void)
{
    fail_at = 0;
    calls = 0;
    store_set_fault_hook(NULL);
}

int faulty_calls(void)
{
    return calls;
}
