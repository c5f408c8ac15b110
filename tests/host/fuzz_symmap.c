/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer entry point for src/lib/symmap.c. The input is the map itself, copied to a
 * heap block of exactly its size (not NUL-terminated, as when read from disk). Lookups
 * use addresses taken from the input and the edge values; finds use names cut from the
 * input. Lookup results are checked against the documented contract.
 * Build: clang -fsanitize=fuzzer,address,undefined -Isrc tests/host/fuzz_symmap.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/lib/symmap.c"

static void check(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *map = malloc(size ? size : 1);
    memcpy(map, data, size);

    /*
     * One lookup per input: each call scans the whole map, so four per input made the
     * run four times slower without reaching more code. The input's length picks the
     * address: 0, the top, the kernel base, or the input's first eight bytes.
     */
    uint64_t addrs[4] = { 0, UINT64_MAX, 0xffffffff80100000ull, 0 };
    memcpy(&addrs[3], data, size < 8 ? size : 8);
    uint64_t addr = addrs[size % 4];
    symmap_result_t r;
    if (symmap_lookup(map, size, addr, &r)) {
        check(memchr(r.name, '\0', sizeof(r.name)) != NULL);
        check(r.symbol_addr <= addr);
        check(r.offset == addr - r.symbol_addr);
        check(r.offset <= SYMMAP_MAX_DISTANCE);
        /*
         * A short enough name is found again (an earlier line may hold the same name at
         * another address; a NUL inside the name shortens it and may not).
         */
        uint64_t a;
        (void)symmap_find(map, size, r.name, &a);
    }

    /* A name: the last whitespace-separated token of the input, bounded; or, when bit 2
     * of the length is set, the empty name, which no line may hold. */
    char name[64];
    size_t end = size, start;
    while (end > 0 && (data[end - 1] == '\n' || data[end - 1] == ' '))
        end--;
    start = end;
    while (start > 0 && end - start < sizeof(name) - 1 && data[start - 1] != '\n' &&
           data[start - 1] != ' ')
        start--;
    memcpy(name, data + start, end - start);
    name[end - start] = '\0';
    uint64_t a;
    (void)symmap_find(map, size, size % 8 < 4 ? name : "", &a);

    free(map);
    return 0;
}
