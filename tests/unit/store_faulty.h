/* store_faulty.h - fault injection for store tests (after SQLite's
 * test_vfs.c): make the Nth store call from now, or every call, fail. */
#ifndef KH_STORE_FAULTY_H
#define KH_STORE_FAULTY_H

/* The countdown-th store call from now (1 = the next) and every one after
 * it return code; faulty_off() restores normal behaviour. */
void faulty_fail_after(int countdown, int code);
void faulty_off(void);
/* How many store calls were made since the last faulty_fail_after/off. */
int faulty_calls(void);

#endif
