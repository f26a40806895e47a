/*
 * The few socket calls the C suites' scripted peers make, on POSIX and on
 * Windows (winsock, as the suites run under wine): a socket type, and
 * reading, writing and closing one.
 */
#ifndef HTTPQQ_TEST_NET_H
#define HTTPQQ_TEST_NET_H

#include <stddef.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>

typedef SOCKET sock_t;
#define SOCK_INVALID INVALID_SOCKET
#define MSG_NOSIGNAL 0
#define SHUT_RDWR SD_BOTH

/* Winsock wants starting once per process. */
static inline void net_init(void) {
    WSADATA data;
    WSAStartup(MAKEWORD(2, 2), &data);
}
static inline long sock_read(sock_t s, void *buffer, size_t len) {
    return recv(s, (char *)buffer, (int)len, 0);
}
static inline long sock_write(sock_t s, const void *buffer, size_t len) {
    return send(s, (const char *)buffer, (int)len, 0);
}
static inline void sock_close(sock_t s) { closesocket(s); }
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

typedef int sock_t;
#define SOCK_INVALID (-1)

static inline void net_init(void) {}
static inline long sock_read(sock_t s, void *buffer, size_t len) {
    return (long)read(s, buffer, len);
}
/* MSG_NOSIGNAL: a peer that hung up gives an error, not SIGPIPE. */
static inline long sock_write(sock_t s, const void *buffer, size_t len) {
    return (long)send(s, buffer, len, MSG_NOSIGNAL);
}
static inline void sock_close(sock_t s) { close(s); }
#endif

#endif
