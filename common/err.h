/* SPDX-License-Identifier: MIT */
/*
 * Error codes shared by every provcat module. One X-macro table makes the
 * enum, pc_errname() and pc_strerror(); values are negative, PC_OK is 0.
 * Detail travels in a caller-supplied errmsg buffer of PC_ERRMSG_SIZE bytes.
 */
#ifndef PC_ERR_H
#define PC_ERR_H

#include <stddef.h>

#define PC_ERRMSG_SIZE 256

/* X(name, value, message). Append only: values are never renumbered. */
#define PC_ERR_MAP(X)                       \
    X(ENOMEM, -1, "out of memory")          \
    X(EINVAL, -2, "invalid argument")       \
    X(ECORRUPT, -3, "corrupt data")         \
    X(EPROTO, -4, "protocol error")         \
    X(ENOTFOUND, -5, "not found")           \
    X(EEXIST, -6, "already exists")         \
    X(ERANGE, -7, "out of range")           \
    X(EIO, -8, "input/output error")        \
    X(EBUSY, -9, "busy")                    \
    X(ENOTLEADER, -10, "not the leader")    \
    X(ECONFLICT, -11, "conflict")           \
    X(ETOOLARGE, -12, "too large")          \
    X(EFORBIDDEN, -13, "forbidden")         \
    X(EUNAUTH, -14, "unauthorized")         \
    X(EUNAVAIL, -15, "unavailable")         \
    X(ESHUTDOWN, -16, "shutting down")      \
    X(EVERSION, -17, "unsupported version") \
    X(EAGAIN, -18, "try again")             \
    X(ENOSPC, -19, "no space left on device")

enum {
    PC_OK = 0,
#define PC_ERR_ENUM(name, value, msg) PC_##name = value,
    PC_ERR_MAP(PC_ERR_ENUM)
#undef PC_ERR_ENUM
};

/* "ENOMEM" for PC_ENOMEM; "OK" for 0; "EUNKNOWN" for anything else. */
const char *pc_errname(int rc);

/* A short lower-case sentence for `rc`. */
const char *pc_strerror(int rc);

/*
 * Format a message into `errmsg` (PC_ERRMSG_SIZE bytes, may be NULL) and
 * return `rc`, so callers can write `return pc_errmsgf(errmsg, rc, ...)`.
 */
int pc_errmsgf(char *errmsg, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Like pc_errmsgf, appending ": <strerror(errnum)>"; returns PC_ENOMEM for
 * ENOMEM and PC_EIO for every other errno.
 */
int pc_errmsg_sys(char *errmsg, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Prefix the message already in `errmsg` with "<context>: ", the way each
 * layer adds context on the way up. Returns `rc`.
 */
int pc_errmsg_wrap(char *errmsg, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
