/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer entry point for src/lib/cmdline.c. The input bytes become the command line
 * (cut at the first NUL, as the loader would), are parsed, and every parsed value and
 * the raw text go through cmdline_split_argv with buffers sized from the input, down to
 * zero, so the bound checks are exercised as hard as the parsing. Invariants that must
 * hold for any input abort the run.
 * Build: clang -fsanitize=fuzzer,address,undefined -Isrc tests/host/fuzz_cmdline.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/lib/cmdline.c"

static void check(int cond)
{
    if (!cond)
        abort();
}

static void split_all_ways(const char *text, size_t hint)
{
    char buf[CMDLINE_MAX_BYTES];
    const char *argv[CMDLINE_MAX_ARGS + 1];
    size_t sizes[] = { sizeof(buf), hint % (sizeof(buf) + 1), 0 };
    unsigned counts[] = { CMDLINE_MAX_ARGS + 1, (unsigned)(hint % 5), 1 };

    for (size_t i = 0; i < 3; i++) {
        /* A heap copy of exactly the size promised, so overruns are caught. */
        char *exact = malloc(sizes[i] ? sizes[i] : 1);
        int argc = cmdline_split_argv(exact, sizes[i], text, argv, counts[i]);
        check(argc >= -CMDLINE_EEMPTYKEY);
        if (argc >= 0) {
            check((unsigned)argc < counts[i] && argv[argc] == NULL);
            for (int a = 0; a < argc; a++)
                check(argv[a] >= exact && argv[a] + strlen(argv[a]) < exact + sizes[i]);
        }
        free(exact);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cmdline_t cl;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';

    int err = cmdline_parse(&cl, text);
    check(err == 0 || err == -CMDLINE_E2BIG || err == -CMDLINE_EQUOTE ||
          err == -CMDLINE_EEMPTYKEY);
    check(cmdline_error_string(err) != NULL);
    if (err == 0) {
        check(cl.count <= CMDLINE_MAX_ARGS);
        for (unsigned i = 0; i < cl.count; i++) {
            const char *key = cl.args[i].key;
            check(key >= cl.storage && key < cl.storage + sizeof(cl.storage));
            check(key[0] != '\0');
            check(cmdline_has(&cl, key));
            const char *v = cmdline_get(&cl, key);
            check(v != NULL);
            uint64_t n;
            (void)cmdline_get_u64(&cl, key, &n);
            split_all_ways(v, size + i);
        }
    } else {
        check(cl.count == 0);
    }
    split_all_ways(text, size);

    free(text);
    return 0;
}
