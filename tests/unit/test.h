/* test.h - a minimal table-friendly test harness for the C unit tests.
 *
 * Each test file defines test functions and lists them in main() through
 * RUN(). A failed CHECK prints file:line and the expression and marks the
 * current test failed; the run ends with "N passed, M failed" and exits
 * non-zero on any failure, which is what ctest reads. */
#ifndef KH_TEST_H
#define KH_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failed_checks;
static int tests_passed, tests_failed;

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                                 \
            test_failed_checks++;                                                                                      \
        }                                                                                                              \
    } while (0)

#define CHECK_INT(a, b)                                                                                                \
    do {                                                                                                               \
        long long a_ = (long long)(a), b_ = (long long)(b);                                                            \
        if (a_ != b_) {                                                                                                \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, a_, b_);                   \
            test_failed_checks++;                                                                                      \
        }                                                                                                              \
    } while (0)

#define CHECK_STR(a, b)                                                                                                \
    do {                                                                                                               \
        const char *a_ = (a), *b_ = (b);                                                                               \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                                       \
            fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, a_ ? a_ : "(null)",    \
                    b_ ? b_ : "(null)");                                                                               \
            test_failed_checks++;                                                                                      \
        }                                                                                                              \
    } while (0)

#define RUN(fn)                                                                                                        \
    do {                                                                                                               \
        test_failed_checks = 0;                                                                                        \
        fn();                                                                                                          \
        if (test_failed_checks) {                                                                                      \
            tests_failed++;                                                                                            \
            fprintf(stderr, "FAIL %s\n", #fn);                                                                         \
        } else {                                                                                                       \
            tests_passed++;                                                                                            \
            printf("ok   %s\n", #fn);                                                                                  \
        }                                                                                                              \
    } while (0)

#define TEST_SUMMARY()                                                                                                 \
    (printf("%d passed, %d failed\n", tests_passed, tests_failed), tests_failed ? 1 : 0)

#endif
