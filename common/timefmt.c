/* SPDX-License-Identifier: MIT */
/* Civil-date arithmetic (Howard Hinnant's algorithms) and RFC 3339 I/O. */
#include "common/timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"

int64_t
pc_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + (int64_t)doe - 719468;
}

void
pc_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;

    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void
pc_time_format(char out[PC_TIME_STR_LEN], int64_t ms)
{
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000;
    int64_t y;
    unsigned m, d;

    pc_civil_from_days(days, &y, &m, &d);
    char tmp[64]; /* wide enough for any int, so never truncated */

    if (y < 0 || y > 9999) {
        y = y < 0 ? 0 : 9999; /* RFC 3339 has four-digit years only */
    }
    snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", (int)y,
             m % 100, d % 100, (int)(rem / 3600000), (int)(rem / 60000 % 60),
             (int)(rem / 1000 % 60), (int)(rem % 1000));
    memcpy(out, tmp, PC_TIME_STR_LEN - 1);
    out[PC_TIME_STR_LEN - 1] = '\0';
}

static int
digits(const char **s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*s)[i])) {
            return PC_EINVAL;
        }
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    *out = v;
    return PC_OK;
}

static const unsigned mdays[] = {
    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
};

int
pc_time_parse(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec, frac = 0, oh = 0, om = 0, sign = 0;

    if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' ||
        digits(&s, 2, &d) || (*s != 'T' && *s != 't')) {
        return PC_EINVAL;
    }
    s++;
    if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) || *s++ != ':' ||
        digits(&s, 2, &sec)) {
        return PC_EINVAL;
    }
    if (*s == '.') {
        int n = 0;

        s++;
        while (isdigit((unsigned char)*s)) {
            if (n < 3) {
                frac = frac * 10 + (*s - '0');
            }
            n++;
            s++;
        }
        if (n == 0) {
            return PC_EINVAL;
        }
        for (; n < 3; n++) {
            frac *= 10;
        }
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        sign = *s++ == '+' ? 1 : -1;
        if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om) ||
            oh > 23 || om > 59) {
            return PC_EINVAL;
        }
    } else {
        return PC_EINVAL;
    }
    if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 ||
        sec > 59) {
        return PC_EINVAL;
    }
    unsigned dim = mdays[mo - 1];
    if (mo == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) {
        dim = 29;
    }
    if ((unsigned)d > dim) {
        return PC_EINVAL;
    }
    int64_t t = pc_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400000 +
                ((int64_t)h * 3600 + mi * 60 + sec) * 1000 + frac;
    t -= (int64_t)sign * ((int64_t)oh * 3600 + om * 60) * 1000;
    *ms = t;
    return PC_OK;
}

#ifdef PC_TEST_HOOKS
/* Set before main, so threads only ever read it. */
int64_t pc_test_hook_clock_offset_ms;
#endif

int64_t
pc_now_ms(void)
{
    struct timespec ts;
    int64_t ms;

    clock_gettime(CLOCK_REALTIME, &ts);
    ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#ifdef PC_TEST_HOOKS
    ms += pc_test_hook_clock_offset_ms;
#endif
    return ms;
}
