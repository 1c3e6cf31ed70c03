/* SPDX-License-Identifier: MIT */
/*
 * The client behind trusted proxies: CIDR lists (--trusted-proxy) and the
 * address X-Forwarded-For names, believed only when the connection comes
 * from a trusted proxy.
 *
 * Each proxy appends to X-Forwarded-For the address it received the
 * connection from, so the list reads client, proxy1, proxy2, ... and only
 * the entries appended by proxies we trust are true: anything left of them
 * may be what the client itself sent. The client is therefore the
 * right-most entry that is not a trusted proxy, walking leftwards from the
 * socket's peer while each hop is trusted. Several X-Forwarded-For header
 * lines count as one list in their order (RFC 9110, 5.3). An entry that is
 * not an address ends the walk at the last trusted hop, which is then the
 * client as far as we can tell: a forged entry is never believed.
 */
#include "node/http/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/err.h"

/* An address literal as family and 4 or 16 bytes. */
static bool
addr_parse(const char *s, size_t len, int *family, uint8_t out[16])
{
    char buf[INET6_ADDRSTRLEN + 1];

    if (len == 0 || len >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(out, 0, 16);
    if (inet_pton(AF_INET, buf, out) == 1) {
        *family = 4;
        return true;
    }
    if (inet_pton(AF_INET6, buf, out) == 1) {
        *family = 6;
        return true;
    }
    return false;
}

int
http_cidr_parse(const char *s, struct http_cidr *out, char *errmsg)
{
    const char *slash = strchr(s, '/');
    size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
    struct http_cidr c;
    unsigned max, bits;
    int family;

    memset(&c, 0, sizeof(c));
    if (!addr_parse(s, alen, &family, c.addr)) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "\"%.64s\" is not an address or network (expected "
                          "A.B.C.D/N, A.B.C.D, or an IPv6 one)",
                          s);
    }
    max = family == 4 ? 32 : 128;
    bits = max;
    if (slash != NULL) {
        const char *p = slash + 1;

        bits = 0;
        if (*p == '\0' || strlen(p) > 3 || (*p == '0' && p[1] != '\0')) {
            bits = max + 1;
        }
        for (; *p != '\0' && bits <= max; p++) {
            bits = isdigit((unsigned char)*p) ? bits * 10 + (unsigned)(*p - '0')
                                              : max + 1;
        }
        if (bits > max) {
            return pc_errmsgf(errmsg, PC_EINVAL,
                              "\"%.64s\" has a bad prefix length (expected "
                              "0..%u)",
                              s, max);
        }
    }
    for (unsigned i = bits; i < max; i++) {
        if (c.addr[i / 8] & (0x80 >> (i % 8))) {
            return pc_errmsgf(errmsg, PC_EINVAL,
                              "\"%.64s\" has address bits set past the /%u "
                              "prefix (a network is written with them zero)",
                              s, bits);
        }
    }
    c.family = (uint8_t)family;
    c.bits = (uint8_t)bits;
    *out = c;
    return PC_OK;
}

int
http_cidr_list_parse(const char *s, struct http_cidr **out, size_t *n_out,
                     char *errmsg)
{
    struct http_cidr *list;
    size_t cap = 1, n = 0;
    char item[INET6_ADDRSTRLEN + 8];
    int rc;

    for (const char *p = s; *p != '\0'; p++) {
        cap += *p == ',' || *p == ' ';
    }
    list = pc_calloc(cap, sizeof(*list));
    if (list == NULL) {
        return pc_errmsgf(errmsg, PC_ENOMEM, "out of memory");
    }
    for (const char *p = s; *p != '\0';) {
        size_t len = strcspn(p, ", ");

        if (len == 0) {
            p++;
            continue;
        }
        if (len >= sizeof(item)) {
            pc_free(list);
            return pc_errmsgf(errmsg, PC_EINVAL,
                              "\"%.*s...\" is not an address or network", 32,
                              p);
        }
        memcpy(item, p, len);
        item[len] = '\0';
        rc = http_cidr_parse(item, &list[n], errmsg);
        if (rc != PC_OK) {
            pc_free(list);
            return rc;
        }
        n++;
        p += len;
    }
    if (n == 0) {
        pc_free(list);
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "empty list (expected CIDR networks separated by "
                          "commas)");
    }
    *out = list;
    *n_out = n;
    return PC_OK;
}

static bool
match(const struct http_cidr *list, size_t n, int family, const uint8_t a[16])
{
    for (size_t i = 0; i < n; i++) {
        const struct http_cidr *c = &list[i];
        unsigned full = c->bits / 8, rest = c->bits % 8;

        if (c->family != family || memcmp(c->addr, a, full) != 0) {
            continue;
        }
        if (rest == 0 ||
            ((c->addr[full] ^ a[full]) & (0xff << (8 - rest))) == 0) {
            return true;
        }
    }
    return false;
}

bool
http_cidr_match(const struct http_cidr *list, size_t n, const char *ip)
{
    uint8_t a[16];
    int family;

    return ip != NULL && addr_parse(ip, strlen(ip), &family, a) &&
           match(list, n, family, a);
}

/*
 * One X-Forwarded-For entry: an address, "[v6]" or "[v6]:port", or
 * "a.b.c.d:port" as some proxies write it. False if it is none of those.
 */
static bool
entry_parse(const char *s, size_t len, int *family, uint8_t a[16])
{
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++, len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
        len--;
    }
    if (len > 0 && *s == '[') {
        const char *close = memchr(s, ']', len);

        if (close == NULL ||
            !addr_parse(s + 1, (size_t)(close - s - 1), family, a) ||
            *family != 6) {
            return false;
        }
        return true;
    }
    if (addr_parse(s, len, family, a)) {
        return true;
    }
    const char *colon = memchr(s, ':', len);
    return colon != NULL &&
           memchr(colon + 1, ':', len - (size_t)(colon - s) - 1) == NULL &&
           addr_parse(s, (size_t)(colon - s), family, a) && *family == 4;
}

static void
addr_format(int family, const uint8_t a[16], char *buf, size_t size)
{
    if (inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)size) ==
        NULL) {
        snprintf(buf, size, "?");
    }
}

const char *
http_client_addr(const char *peer, const char *const *xff, size_t n_xff,
                 const struct http_cidr *trusted, size_t n_trusted, char *buf,
                 size_t size)
{
    uint8_t a[16];
    int family;

    if (n_trusted == 0 || n_xff == 0 ||
        !http_cidr_match(trusted, n_trusted, peer)) {
        return peer;
    }
    /* Right to left over the header lines, then over each line's
     * entries; `peer` is the last trusted hop so far. */
    const char *last = peer;
    bool last_is_buf = false;
    for (size_t h = n_xff; h-- > 0;) {
        const char *line = xff[h];
        size_t end = strlen(line);

        while (end > 0) {
            size_t start = end;

            while (start > 0 && line[start - 1] != ',') {
                start--;
            }
            if (!entry_parse(line + start, end - start, &family, a)) {
                bool blank = true;
                for (size_t i = start; i < end; i++) {
                    blank &= line[i] == ' ' || line[i] == '\t';
                }
                if (!blank) {
                    return last_is_buf ? buf : last; /* forged or garbled */
                }
            } else {
                addr_format(family, a, buf, size);
                if (!match(trusted, n_trusted, family, a)) {
                    return buf; /* the client */
                }
                last = buf;
                last_is_buf = true;
            }
            end = start > 0 ? start - 1 : 0;
        }
    }
    /* Every hop is a trusted proxy: the left-most is all we know. */
    return last;
}
