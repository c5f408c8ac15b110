/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer entry point for src/lib/linemap.c. The input is the line-table bundle
 * itself, copied to a heap block of exactly its size (not NUL-terminated, as when read
 * from disk); it is looked up under the header the parser requires or as given, for a
 * section name cut from the input, at an edge address or one taken from the input.
 * Results are checked against the documented contract.
 * Build: clang -fsanitize=fuzzer,address,undefined -Isrc tests/host/fuzz_linemap.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/lib/linemap.c"

static void check(int cond)
{
    if (!cond)
        abort();
}

/*
 * One lookup and one check per input: each scans the whole map, and the thirty an input
 * used to get made the run twenty times slower without reaching more code. The input's
 * length picks the address (0, the top, the kernel base, 0x1000 or the input's first
 * eight bytes) and, with the next digit, which of the three (map, section) pairs.
 */
static void lookup(const char *map, size_t size, const char *image, const uint8_t *data,
                   size_t data_size)
{
    uint64_t addrs[5] = { 0, UINT64_MAX, 0xffffffff80100000ull, 0x1000, 0 };
    memcpy(&addrs[4], data, data_size < 8 ? data_size : 8);
    uint64_t addr = addrs[data_size % 5];
    linemap_result_t r;
    if (linemap_lookup(map, size, image, addr, &r)) {
        check(memchr(r.file, '\0', sizeof(r.file)) != NULL);
        check(r.line != 0);
    }
    (void)linemap_check(map, size, image, "panic_set_line_table", addr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char header[] = "VKLINES 1\n=a\n";
    size_t hlen = sizeof(header) - 1;
    char *raw = malloc(size ? size : 1);
    char *with_header = malloc(hlen + size);
    memcpy(raw, data, size);
    memcpy(with_header, header, hlen);
    memcpy(with_header + hlen, data, size);

    /* The section name: the input's first line after a leading '=' (bounded). */
    char image[32] = "a";
    const uint8_t *eq = memchr(data, '=', size < 64 ? size : 64);
    if (eq) {
        size_t n = 0;
        while (eq + 1 + n < data + size && n < sizeof(image) - 1 && eq[1 + n] != '\n' &&
               eq[1 + n] != '\0')
            n++;
        memcpy(image, eq + 1, n);
        image[n] = '\0';
    }
    switch (size / 5 % 3) {
    case 0: lookup(raw, size, image, data, size); break;
    case 1: lookup(with_header, hlen + size, "a", data, size); break;
    default: lookup(with_header, hlen + size, image, data, size); break;
    }

    free(with_header);
    free(raw);
    return 0;
}
