#ifndef FFCOL_SYS_H
#define FFCOL_SYS_H
// Operating-system calls that Swift's Glibc module does not declare, as static inline C (a
// header only, nothing to build or link).
#include <stdint.h>

#if defined(__linux__)
// Declared by <fcntl.h> only under _GNU_SOURCE, which the Glibc module is built without; glibc
// has exported it since 2.6.
extern int sync_file_range(int fd, int64_t offset, int64_t nbytes, unsigned int flags);
// Declared by <pthread.h> only under _GNU_SOURCE; glibc has exported it since 2.12.
#include <pthread.h>
extern int pthread_setname_np(pthread_t thread, const char *name);
#endif

/// Starts writing back the dirty pages of bytes offset..<offset + n of `fd` without waiting
/// (Linux: sync_file_range with SYNC_FILE_RANGE_WRITE), so that a later fsync has less left
/// to write. A hint: returns 0 where there is no such call, -1 with errno on failure (the
/// fsync that follows reports any real write error).
static inline int ffcol_start_writeback(int fd, int64_t offset, int64_t n) {
#if defined(__linux__)
    return sync_file_range(fd, offset, n, 2 /* SYNC_FILE_RANGE_WRITE */);
#else
    (void)fd; (void)offset; (void)n;
    return 0;
#endif
}

/// Names the calling thread, as `ps -L`, `top -H` and `perf` show it; Linux keeps no name
/// longer than 15 bytes (the call fails). Does nothing where there is no such call.
static inline void ffcol_name_this_thread(const char *name) {
#if defined(__linux__)
    (void)pthread_setname_np(pthread_self(), name);
#else
    (void)name;
#endif
}

#endif
