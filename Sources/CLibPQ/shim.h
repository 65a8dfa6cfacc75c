#ifndef KEEL_CLIBPQ_SHIM_H
#define KEEL_CLIBPQ_SHIM_H
// libpq's public header; its include directory comes from `pkg-config libpq`.
#include <libpq-fe.h>

#ifdef __linux__
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

// epoll_event is a packed struct with a union: these helpers keep it on the C side.

/// Adds `fd` for `events` (edge-triggered: readable, writable, hang-up), with `token` as the
/// event's data. Returns 0 or -errno.
static inline int keel_epoll_add(int epfd, int fd, uint64_t token) {
    struct epoll_event event;
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    event.data.u64 = token;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event) == 0 ? 0 : -errno;
}

/// A new descriptor for the same socket as `fd` (close-on-exec). Returns it, or -errno.
static inline int keel_duplicate_fd(int fd) {
    int duplicate = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    return duplicate >= 0 ? duplicate : -errno;
}

/// Removes `fd` from the set. Returns 0 or -errno.
static inline int keel_epoll_remove(int epfd, int fd) {
    struct epoll_event event = {0};
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &event) == 0 ? 0 : -errno;
}

/// Waits for up to `capacity` events; writes each one's token and event mask. Returns the count,
/// or -errno.
static inline int keel_epoll_wait(int epfd, uint64_t *tokens, uint32_t *masks, int capacity, int timeout_ms) {
    struct epoll_event events[64];
    if (capacity > 64) capacity = 64;
    int count = epoll_wait(epfd, events, capacity, timeout_ms);
    if (count < 0) return -errno;
    for (int i = 0; i < count; i++) {
        tokens[i] = events[i].data.u64;
        masks[i] = events[i].events;
    }
    return count;
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
#endif

#endif
