/* SPDX-License-Identifier: MIT */
/*
 * Readiness and shutdown notices to a service manager, in sd_notify(3)'s
 * protocol: one datagram of "KEY=VALUE" lines to the unix socket named by
 * $NOTIFY_SOCKET (a path, or an abstract name written with a leading '@').
 * systemd sets the variable for a Type=notify unit; without it nothing is
 * sent, so the node behaves the same under any other supervisor.
 */
#ifndef PC_NOTIFY_H
#define PC_NOTIFY_H

/*
 * Send `state` (e.g. "READY=1") to $NOTIFY_SOCKET, if that is set and not
 * empty.
 *
 * Returns PC_OK (also when the variable is unset), PC_EINVAL (the variable
 * is neither an absolute path nor an '@' name, or is too long for a socket
 * address) or PC_EIO (the socket or the send failed: no one listens, say;
 * PC_ENOMEM for the kernel's ENOMEM); `errmsg` says which.
 * Context: any thread; one non-blocking send, never waits.
 */
int notify_send(const char *state, char *errmsg);

#endif
