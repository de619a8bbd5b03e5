#define _GNU_SOURCE
#include "ctusksys.h"
#include <string.h>
#include <sys/uio.h>

// sendmmsg(2) needs _GNU_SOURCE, which Swift's Glibc module does not define; this shim exposes it.
int tusk_sendmmsg(int fd, const void *const *buffers, const size_t *lengths, unsigned int count,
                  const struct sockaddr *address, socklen_t address_length) {
    enum { batch = 256 };
    struct mmsghdr messages[batch];
    struct iovec vectors[batch];
    if (count > batch) count = batch;
    memset(messages, 0, sizeof(struct mmsghdr) * count);
    for (unsigned int i = 0; i < count; i++) {
        vectors[i].iov_base = (void *)buffers[i];
        vectors[i].iov_len = lengths[i];
        messages[i].msg_hdr.msg_name = (void *)address;
        messages[i].msg_hdr.msg_namelen = address_length;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    return sendmmsg(fd, messages, count, 0);
}

#include <linux/filter.h>
#include <errno.h>

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif

// A classic BPF program for a SO_REUSEPORT group of `sockets` UDP sockets. The kernel runs it on the
// UDP payload, an sFlow v5 datagram: it folds the agent address (its first and, for IPv6, last word)
// with the sub-agent id and returns that modulo the group size, so each sub-agent always lands on
// the same socket (its sequence numbers stay in order on one reader) and a collector behind one
// replay source, or many sub-agents of one address, still spreads. A datagram too short to read
// goes to socket 0.
int tusk_attach_agent_shard(int fd, unsigned int sockets) {
    if (sockets < 1) { errno = EINVAL; return -1; }
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4),            // 0: A = address type (1 IPv4, 2 IPv6)
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 4),      // 1: IPv6 → 2, else → 6
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 20),           // 2: A = last word of the IPv6 address
        BPF_STMT(BPF_MISC | BPF_TAX, 0),                  // 3: X = A
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 24),           // 4: A = sub-agent id (IPv6 agent)
        BPF_STMT(BPF_JMP | BPF_JA, 2),                    // 5: → 8
        BPF_STMT(BPF_LDX | BPF_IMM, 0),                   // 6: X = 0
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 12),           // 7: A = sub-agent id (IPv4 agent)
        BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),           // 8: A ^= X
        BPF_STMT(BPF_MISC | BPF_TAX, 0),                  // 9: X = A
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 8),            // 10: A = first word of the address
        BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),           // 11: A ^= X
        BPF_STMT(BPF_MISC | BPF_TAX, 0),                  // 12: X = A
        BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),          // 13: A >>= 16
        BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),           // 14: A ^= X
        BPF_STMT(BPF_MISC | BPF_TAX, 0),                  // 15: X = A
        BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 8),           // 16: A >>= 8
        BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),           // 17: A ^= X
        BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, sockets),     // 18: A %= sockets
        BPF_STMT(BPF_RET | BPF_A, 0),                     // 19: socket A of the group
    };
    struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog));
}
