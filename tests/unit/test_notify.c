/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for node/notify: the datagram reaches a socket named by a path
 * and by an abstract '@' name, byte for byte; an unset variable sends
 * nothing; a bad or dead $NOTIFY_SOCKET is an error naming it.
 */
#include "tests/lib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/err.h"
#include "node/notify.h"

struct fixture {
    char dir[64];   /* private temporary directory */
    char path[128]; /* a socket path inside it */
    int fd;         /* the listening datagram socket, or -1 */
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/provcat-notify-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/notify", f->dir);
    f->fd = -1;
    unsetenv("NOTIFY_SOCKET");
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    if (f->fd >= 0) {
        close(f->fd);
    }
    unlink(f->path);
    rmdir(f->dir);
    unsetenv("NOTIFY_SOCKET");
    free(f);
    return 0;
}

/* Bind a datagram socket to `name` (a path, or '@' for an abstract name). */
static int
listen_on(const char *name)
{
    struct sockaddr_un sa;
    socklen_t len =
        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, name, strlen(name));
    if (name[0] == '@') {
        sa.sun_path[0] = '\0';
    }
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
    return fd;
}

/* The next datagram on `fd` as a string, or "" if none is waiting. */
static void
receive(int fd, char *buf, size_t size)
{
    ssize_t n = recv(fd, buf, size - 1, MSG_DONTWAIT);

    buf[n > 0 ? n : 0] = '\0';
}

/* READY=1 reaches a socket named by its path, exactly those bytes. */
static void
test_notify_path_socket(void **state)
{
    struct fixture *f = *state;
    char errmsg[PC_ERRMSG_SIZE] = "", got[64];

    f->fd = listen_on(f->path);
    setenv("NOTIFY_SOCKET", f->path, 1);
    assert_int_equal(notify_send("READY=1", errmsg), PC_OK);
    receive(f->fd, got, sizeof(got));
    assert_string_equal(got, "READY=1");
    assert_int_equal(notify_send("STOPPING=1", errmsg), PC_OK);
    receive(f->fd, got, sizeof(got));
    assert_string_equal(got, "STOPPING=1");
}

/* An '@' name is the abstract socket of that name (systemd's default). */
static void
test_notify_abstract_socket(void **state)
{
    struct fixture *f = *state;
    char name[64], errmsg[PC_ERRMSG_SIZE] = "", got[64];

    snprintf(name, sizeof(name), "@provcat-notify-test-%d", (int)getpid());
    f->fd = listen_on(name);
    setenv("NOTIFY_SOCKET", name, 1);
    assert_int_equal(notify_send("READY=1", errmsg), PC_OK);
    receive(f->fd, got, sizeof(got));
    assert_string_equal(got, "READY=1");
}

/* Unset or empty: nothing is sent and it is not an error. */
static void
test_notify_unset_sends_nothing(void **state)
{
    struct fixture *f = *state;
    char errmsg[PC_ERRMSG_SIZE] = "", got[64];

    f->fd = listen_on(f->path);
    assert_int_equal(notify_send("READY=1", errmsg), PC_OK);
    setenv("NOTIFY_SOCKET", "", 1);
    assert_int_equal(notify_send("READY=1", errmsg), PC_OK);
    receive(f->fd, got, sizeof(got));
    assert_string_equal(got, "");
    assert_string_equal(errmsg, "");
}

/* A relative name, an overlong one and a socket no one holds are errors. */
static void
test_notify_bad_socket_errors(void **state)
{
    struct fixture *f = *state;
    char errmsg[PC_ERRMSG_SIZE] = "", lng[200];

    setenv("NOTIFY_SOCKET", "run/notify", 1);
    assert_int_equal(notify_send("READY=1", errmsg), PC_EINVAL);
    assert_string_equal(errmsg, "NOTIFY_SOCKET 'run/notify' is neither an "
                                "absolute path nor an abstract '@' name");
    memset(lng, 'a', sizeof(lng) - 1);
    lng[0] = '/';
    lng[sizeof(lng) - 1] = '\0';
    setenv("NOTIFY_SOCKET", lng, 1);
    assert_int_equal(notify_send("READY=1", errmsg), PC_EINVAL);
    assert_string_equal(errmsg,
                        "NOTIFY_SOCKET is 199 bytes long (at most 107)");
    setenv("NOTIFY_SOCKET", f->path, 1); /* nothing bound there */
    assert_int_equal(notify_send("READY=1", errmsg), PC_EIO);
    assert_non_null(strstr(errmsg, f->path));
    assert_non_null(strstr(errmsg, "No such file or directory"));
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_notify_path_socket, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_notify_abstract_socket, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_notify_unset_sends_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_notify_bad_socket_errors, setup,
                                        teardown),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests_name("notify", tests, NULL, NULL);
}
