#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include "eddy_support.h"

int eddy_exchange_paths(const char *first, const char *second) {
    return renameat2(AT_FDCWD, first, AT_FDCWD, second, RENAME_EXCHANGE);
}

#include <sys/mman.h>

void *eddy_map_memory(size_t bytes) {
    void *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return memory == MAP_FAILED ? NULL : memory;
}

void *eddy_grow_mapping(void *memory, size_t bytes, size_t newBytes) {
    void *grown = mremap(memory, bytes, newBytes, MREMAP_MAYMOVE);
    return grown == MAP_FAILED ? NULL : grown;
}

void eddy_unmap_memory(void *memory, size_t bytes) {
    munmap(memory, bytes);
}

#include <stdint.h>
#include <string.h>

static uint32_t crc32c_table[256];

static void crc32c_init_table(void) {
    for (uint32_t index = 0; index < 256; index++) {
        uint32_t crc = index;
        for (int bit = 0; bit < 8; bit++) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        crc32c_table[index] = crc;
    }
}

static uint32_t crc32c_portable(uint32_t crc, const uint8_t *bytes, size_t count) {
    if (crc32c_table[1] == 0) crc32c_init_table();
    for (size_t index = 0; index < count; index++) crc = crc32c_table[(crc ^ bytes[index]) & 0xFF] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const uint8_t *bytes, size_t count) {
    uint64_t wide = crc;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        wide = __builtin_ia32_crc32di(wide, word);
        bytes += 8;
        count -= 8;
    }
    crc = (uint32_t)wide;
    while (count > 0) {
        crc = __builtin_ia32_crc32qi(crc, *bytes++);
        count--;
    }
    return crc;
}
#endif

uint32_t eddy_crc32c_update(uint32_t state, const void *bytes, size_t count) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2")) return crc32c_sse42(state, (const uint8_t *)bytes, count);
#endif
    return crc32c_portable(state, (const uint8_t *)bytes, count);
}

#include <signal.h>

static volatile sig_atomic_t stop_signal = 0;

static void record_stop(int signal_number) {
    stop_signal = signal_number;
    // A second signal acts as if eddy had no handler: it ends a run that cannot stop cleanly.
    signal(signal_number, SIG_DFL);
}

void eddy_install_stop_handlers(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = record_stop;
    sigemptyset(&action.sa_mask);
    // No SA_RESTART: a read blocked on a quiet pipe returns EINTR, so the run notices.
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
}

int eddy_stop_signal(void) { return stop_signal; }
