#ifndef EDDY_SUPPORT_H
#define EDDY_SUPPORT_H

/// Asks the CPU to start loading the cache line at `address` for a later write. Swift has
/// no prefetch intrinsic; the runtime prefetches a batch's key-table entries and feature
/// states before using them, so that the cache misses of many keys overlap.
static inline void eddy_prefetch(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// Swaps two paths atomically (Linux `renameat2` with `RENAME_EXCHANGE`, which needs
/// `_GNU_SOURCE`, so it is called from C): 0 on success, -1 with errno set.
int eddy_exchange_paths(const char *first, const char *second);

#endif
