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
