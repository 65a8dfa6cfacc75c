#ifndef KEEL_CKEELIO_SHIM_H
#define KEEL_CKEELIO_SHIM_H
// The system calls of Keel's socket reactor and TCP clients, kept on the C side where their
// structs (epoll_event is packed, sockaddr is a family of casts) are easy to use.

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/// Keel's readiness events, the same for every poller: readable, writable, and failure (hang-up
/// or error, which ends every wait).
static const uint32_t keel_event_readable = 1;
static const uint32_t keel_event_writable = 2;
static const uint32_t keel_event_failure = 4;

#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>

/// Adds `fd` for `events` (edge-triggered: readable, writable, hang-up), with `token` as the
/// event's data. Returns 0 or -errno.
static inline int keel_epoll_add(int epfd, int fd, uint64_t token) {
    struct epoll_event event;
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    event.data.u64 = token;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event) == 0 ? 0 : -errno;
}

/// Removes `fd` from the set. Returns 0 or -errno.
static inline int keel_epoll_remove(int epfd, int fd) {
    struct epoll_event event = {0};
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &event) == 0 ? 0 : -errno;
}

/// Waits for up to `capacity` events; writes each one's token and its `keel_event_…` bits.
/// Returns the count, or -errno.
static inline int keel_epoll_wait(int epfd, uint64_t *tokens, uint32_t *masks, int capacity, int timeout_ms) {
    struct epoll_event events[64];
    if (capacity > 64) capacity = 64;
    int count = epoll_wait(epfd, events, capacity, timeout_ms);
    if (count < 0) return -errno;
    for (int i = 0; i < count; i++) {
        uint32_t found = events[i].events, mask = 0;
        if (found & EPOLLIN) mask |= keel_event_readable;
        if (found & EPOLLOUT) mask |= keel_event_writable;
        if (found & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) mask |= keel_event_failure;
        tokens[i] = events[i].data.u64;
        masks[i] = mask;
    }
    return count;
}

/// A non-blocking, close-on-exec eventfd, or -errno.
static inline int keel_eventfd(void) {
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return fd >= 0 ? fd : -errno;
}

/// Adds one to an eventfd's counter (wakes a wait on it).
static inline void keel_eventfd_signal(int fd) { eventfd_t one = 1; (void)eventfd_write(fd, one); }

/// Resets an eventfd's counter.
static inline void keel_eventfd_drain(int fd) { eventfd_t value; (void)eventfd_read(fd, &value); }
#endif

/// Holds back (`on` 1) or releases (`on` 0) a TCP socket's partial segments, so that several
/// writes leave as one: TCP_CORK on Linux, TCP_NOPUSH elsewhere. Returns 0 or -errno (a Unix
/// socket has neither option).
static inline int keel_tcp_cork(int fd, int on) {
#ifdef TCP_CORK
    return setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on) == 0 ? 0 : -errno;
#elif defined(TCP_NOPUSH)
    return setsockopt(fd, IPPROTO_TCP, TCP_NOPUSH, &on, sizeof on) == 0 ? 0 : -errno;
#else
    return -ENOTSUP;
#endif
}

/// The `poll(2)` events for `keel_event_…` bits.
static inline short keel_poll_events(uint32_t interest) {
    short events = 0;
    if (interest & keel_event_readable) events |= POLLIN;
    if (interest & keel_event_writable) events |= POLLOUT;
    return events;
}

/// The `keel_event_…` bits of `poll(2)`'s `revents`.
static inline uint32_t keel_poll_found(short revents) {
    uint32_t found = 0;
    if (revents & POLLIN) found |= keel_event_readable;
    if (revents & POLLOUT) found |= keel_event_writable;
    if (revents & (POLLERR | POLLHUP | POLLNVAL)) found |= keel_event_failure;
    return found;
}

/// `poll(2)` over `count` entries. Returns the count of entries with events, or -errno.
static inline int keel_poll(struct pollfd *entries, unsigned long count, int timeout_ms) {
    int found = poll(entries, (nfds_t)count, timeout_ms);
    return found >= 0 ? found : -errno;
}

/// A pipe whose two ends are non-blocking and close-on-exec: `fds[0]` reads, `fds[1]` writes.
/// Returns 0 or -errno.
static inline int keel_pipe(int *fds) {
    if (pipe(fds) != 0) return -errno;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL, 0) | O_NONBLOCK);
    }
    return 0;
}

/// Writes one byte to a pipe (a full pipe already wakes its reader).
static inline void keel_pipe_signal(int fd) { char byte = 1; (void)write(fd, &byte, 1); }

/// Reads a pipe until it is empty.
static inline void keel_pipe_drain(int fd) {
    char bytes[64];
    while (read(fd, bytes, sizeof bytes) > 0) {}
}

/// Closes `fd`.
static inline void keel_close(int fd) { (void)close(fd); }

/// A new descriptor for the same socket as `fd` (close-on-exec). Returns it, or -errno.
static inline int keel_duplicate_fd(int fd) {
    int duplicate = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    return duplicate >= 0 ? duplicate : -errno;
}

/// Whether `fd` has something to read (or hung up) right now, without waiting: 1, 0, or -errno.
static inline int keel_poll_readable_now(int fd) {
    struct pollfd entry = { .fd = fd, .events = POLLIN, .revents = 0 };
    int count = poll(&entry, 1, 0);
    if (count < 0) return -errno;
    return count > 0 && (entry.revents & (POLLIN | POLLHUP | POLLERR)) ? 1 : 0;
}

/// Waits until `fd` is readable (`for_write` 0) or writable (1), at most `timeout_ms` (-1: no
/// limit). Returns 1 when ready, 0 on timeout, or -errno. For threads that may block.
static inline int keel_poll_wait(int fd, int for_write, int timeout_ms) {
    struct pollfd entry = { .fd = fd, .events = for_write ? POLLOUT : POLLIN, .revents = 0 };
    int count = poll(&entry, 1, timeout_ms);
    if (count < 0) return -errno;
    return count;
}

/// Milliseconds of a monotonic clock.
static inline int64_t keel_monotonic_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/// Opens a TCP connection to `host`:`port` within `timeout_ms`, blocking the calling thread (a
/// thread of Keel's own: name resolution and connecting can wait). The socket it returns is
/// non-blocking, close-on-exec and has TCP_NODELAY set. Returns the descriptor or -errno
/// (-ETIMEDOUT when the time ran out); when the name does not resolve it returns -ENOENT and sets
/// `*resolution_error` to getaddrinfo's code (0 otherwise).
static inline int keel_tcp_connect(const char *host, const char *port, int timeout_ms, int *resolution_error) {
    *resolution_error = 0;
    int64_t deadline = keel_monotonic_ms() + timeout_ms;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *found = NULL;
    int resolved = getaddrinfo(host, port, &hints, &found);
    if (resolved != 0) { *resolution_error = resolved; return -ENOENT; }
    int result = -ECONNREFUSED;
    for (struct addrinfo *address = found; address != NULL; address = address->ai_next) {
        int fd = socket(address->ai_family, address->ai_socktype, address->ai_protocol);
        if (fd < 0) { result = -errno; continue; }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef SO_NOSIGPIPE
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
        if (connect(fd, address->ai_addr, address->ai_addrlen) == 0) { result = fd; break; }
        if (errno != EINPROGRESS) { result = -errno; close(fd); continue; }
        for (;;) {
            int64_t remaining = deadline - keel_monotonic_ms();
            if (remaining <= 0) { result = -ETIMEDOUT; break; }
            struct pollfd entry = { .fd = fd, .events = POLLOUT, .revents = 0 };
            int ready = poll(&entry, 1, (int)remaining);
            if (ready < 0 && errno == EINTR) continue;
            if (ready < 0) { result = -errno; break; }
            if (ready == 0) { result = -ETIMEDOUT; break; }
            int error = 0;
            socklen_t length = sizeof error;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
            result = error == 0 ? fd : -error;
            break;
        }
        if (result == fd) break;
        close(fd);
        if (result == -ETIMEDOUT) break;
    }
    freeaddrinfo(found);
    return result;
}

/// getaddrinfo's message for `code`.
static inline const char *keel_resolution_error_message(int code) { return gai_strerror(code); }

/// The system's message for `code` (an errno).
static inline const char *keel_errno_message(int code) { return strerror(code); }

/// Reads at most `capacity` bytes: the count, 0 at end of stream, or -errno (-EAGAIN when
/// nothing is there yet).
static inline long keel_read(int fd, uint8_t *buffer, long capacity) {
    for (;;) {
        ssize_t count = read(fd, buffer, (size_t)capacity);
        if (count >= 0) return (long)count;
        if (errno != EINTR) return -errno;
    }
}

/// Writes at most `count` bytes without raising SIGPIPE: the count written, or -errno (-EAGAIN
/// when the socket's buffer is full).
static inline long keel_write(int fd, const uint8_t *bytes, long count) {
#ifdef MSG_NOSIGNAL
    int flags = MSG_NOSIGNAL;
#else
    int flags = 0;
#endif
    for (;;) {
        ssize_t written = send(fd, bytes, (size_t)count, flags);
        if (written >= 0) return (long)written;
        if (errno != EINTR) return -errno;
    }
}

/// Ends both directions of `fd` (a waiting reader sees the end at once); the descriptor stays
/// open.
static inline void keel_shutdown(int fd) { shutdown(fd, SHUT_RDWR); }

#endif
