/* SPDX-License-Identifier: MIT */
/*
 * sd_notify(3)'s protocol without libsystemd: a fresh SOCK_DGRAM socket per
 * notice, one sendto, close. An abstract name ('@' in the variable) is sent
 * as a leading NUL byte and counted exactly, without a terminator.
 */
#include "node/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/err.h"

int
notify_send(const char *state, char *errmsg)
{
    const char *name = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa;
    socklen_t sa_len;
    size_t len;
    ssize_t sent;
    int fd, e;

    if (name == NULL || name[0] == '\0') {
        return PC_OK;
    }
    len = strlen(name);
    if (name[0] != '/' && name[0] != '@') {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "NOTIFY_SOCKET '%s' is neither an absolute path "
                          "nor an abstract '@' name",
                          name);
    }
    if (len >= sizeof(sa.sun_path)) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "NOTIFY_SOCKET is %zu bytes long (at most %zu)", len,
                          sizeof(sa.sun_path) - 1);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, name, len);
    sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    if (name[0] == '@') {
        sa.sun_path[0] = '\0';
    } else {
        sa_len++; /* the terminating NUL, as systemd sends it */
    }
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return pc_errmsg_sys(errmsg, errno, "notify: socket");
    }
    sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT,
                  (struct sockaddr *)&sa, sa_len);
    e = errno;
    close(fd);
    if (sent < 0) {
        return pc_errmsg_sys(errmsg, e, "notify '%s'", name);
    }
    return PC_OK;
}
