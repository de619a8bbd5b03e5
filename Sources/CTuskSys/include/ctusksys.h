#ifndef TUSK_CTUSKSYS_H
#define TUSK_CTUSKSYS_H
#include <stddef.h>
#include <sys/socket.h>

/// Sends `count` datagrams to one destination with a single sendmmsg(2) call where possible.
/// Returns how many were sent, or -1 with errno set when none was.
int tusk_sendmmsg(int fd, const void *const *buffers, const size_t *lengths, unsigned int count,
                  const struct sockaddr *address, socklen_t address_length);

/// Asks the CPU to start loading the cache line at `address` (a hint; it never faults). Several
/// issued back to back overlap their memory latency.
static inline void tusk_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Attaches to a UDP socket of a SO_REUSEPORT group of `sockets` sockets a classic BPF program that
/// picks the group's socket by the sFlow agent address and sub-agent id in the datagram (see ctusksys.c).
/// Returns 0, or -1 with errno set.
int tusk_attach_agent_shard(int fd, unsigned int sockets);

#endif
