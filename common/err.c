/* SPDX-License-Identifier: MIT */
/* Error names, messages and errmsg formatting. */
#include "common/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
pc_errname(int rc)
{
    switch (rc) {
    case PC_OK:
        return "OK";
#define PC_ERR_NAME(name, value, msg) \
    case PC_##name:                   \
        return #name;
        PC_ERR_MAP(PC_ERR_NAME)
#undef PC_ERR_NAME
    }
    return "EUNKNOWN";
}

const char *
pc_strerror(int rc)
{
    switch (rc) {
    case PC_OK:
        return "success";
#define PC_ERR_MSG(name, value, msg) \
    case PC_##name:                  \
        return msg;
        PC_ERR_MAP(PC_ERR_MSG)
#undef PC_ERR_MSG
    }
    return "unknown error";
}

int
pc_errmsgf(char *errmsg, int rc, const char *fmt, ...)
{
    va_list ap;

    if (errmsg == NULL) {
        return rc;
    }
    va_start(ap, fmt);
    vsnprintf(errmsg, PC_ERRMSG_SIZE, fmt, ap);
    va_end(ap);
    return rc;
}

int
pc_errmsg_sys(char *errmsg, int errnum, const char *fmt, ...)
{
    int rc = errnum == ENOMEM ? PC_ENOMEM : PC_EIO;
    va_list ap;
    int n;

    if (errmsg == NULL) {
        return rc;
    }
    va_start(ap, fmt);
    n = vsnprintf(errmsg, PC_ERRMSG_SIZE, fmt, ap);
    va_end(ap);
    if (n >= 0 && n < PC_ERRMSG_SIZE) {
        snprintf(errmsg + n, PC_ERRMSG_SIZE - (size_t)n, ": %s",
                 strerror(errnum));
    }
    return rc;
}

int
pc_errmsg_wrap(char *errmsg, int rc, const char *fmt, ...)
{
    char inner[PC_ERRMSG_SIZE];
    va_list ap;
    int n;

    if (errmsg == NULL) {
        return rc;
    }
    memcpy(inner, errmsg, sizeof(inner));
    inner[sizeof(inner) - 1] = '\0';
    va_start(ap, fmt);
    n = vsnprintf(errmsg, PC_ERRMSG_SIZE, fmt, ap);
    va_end(ap);
    if (n >= 0 && n < PC_ERRMSG_SIZE &&
        snprintf(errmsg + n, PC_ERRMSG_SIZE - (size_t)n, ": %s", inner) < 0) {
        errmsg[n] = '\0'; /* cutting the inner message short is fine */
    }
    return rc;
}
