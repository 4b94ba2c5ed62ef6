/* test_text.c - the control characters util/text.h finds in UTF-8 text. */
#include "test.h"

#include "util/text.h"

static void controls_are_found_and_text_is_not(void)
{
    CHECK_INT((int)text_control_at("\x1b[2J"), 1);  /* ESC */
    CHECK_INT((int)text_control_at("\n"), 1);
    CHECK_INT((int)text_control_at("\x7f"), 1);     /* DEL */
    CHECK_INT((int)text_control_at("\xc2\x85"), 2); /* NEL, a C1 control */
    CHECK_INT((int)text_control_at("\xc2\x9f"), 2);
    CHECK_INT((int)text_control_at("\xe2\x80\xa8"), 3); /* LINE SEPARATOR */
    CHECK_INT((int)text_control_at("\xe2\x80\xae"), 3); /* RIGHT-TO-LEFT OVERRIDE */
    CHECK_INT((int)text_control_at("\xe2\x81\xa6"), 3); /* LEFT-TO-RIGHT ISOLATE */
    CHECK_INT((int)text_control_at("\xe2\x81\xa9"), 3); /* POP DIRECTIONAL ISOLATE */
    /* what is text, or the end */
    CHECK_INT((int)text_control_at(""), 0);
    CHECK_INT((int)text_control_at("a"), 0);
    CHECK_INT((int)text_control_at(" "), 0);
    CHECK_INT((int)text_control_at("\xc2\xa0"), 0);     /* NO-BREAK SPACE */
    CHECK_INT((int)text_control_at("\xc3\xa9"), 0);     /* e acute */
    CHECK_INT((int)text_control_at("\xe2\x80\x94"), 0); /* EM DASH */
    CHECK_INT((int)text_control_at("\xe2\x82\xac"), 0); /* EURO SIGN */
    CHECK_INT((int)text_control_at("\xc2"), 0);         /* cut short: not a control, read no further */
    CHECK_INT((int)text_control_at("\xe2\x80"), 0);
}

int main(void)
{
    RUN(controls_are_found_and_text_is_not);
    return TEST_SUMMARY();
}
