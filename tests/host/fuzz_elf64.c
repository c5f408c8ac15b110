/* SPDX-License-Identifier: MIT */
/* libFuzzer entry over elf64_check with both the kernel and a user-program policy. When
 * the check accepts, every PT_LOAD it promised to be inside the file and the range must
 * really be there. */
#include <stdlib.h>
#include <string.h>
#include "../../src/lib/elf64.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void verify(const uint8_t *buf, size_t size, const elf64_policy_t *p)
{
    elf64_image_t img;
    if (elf64_check(buf, size, p, &img) != ELF64_OK)
        return;
    for (unsigned i = 0; i < img.phnum; i++) {
        elf64_phdr_t ph;
        elf64_phdr_get(&img, i, &ph);
        if (ph.type != ELF64_PT_LOAD)
            continue;
        if (ph.offset + ph.filesz > size || ph.filesz > ph.memsz || ph.vaddr < p->vaddr_min ||
            ph.vaddr + ph.memsz > p->vaddr_max)
            abort();
        volatile uint8_t sink = 0;
        for (uint64_t j = 0; j < ph.filesz; j += 97)
            sink ^= buf[ph.offset + j]; /* ASan checks these are in bounds */
        (void)sink;
    }
    if (img.vaddr_hi - img.vaddr_lo > p->max_image_size)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    static const elf64_policy_t kernel = { ELF64_ET_EXEC, 0xffffffff80000000ull,
                                           0xfffffffffffff000ull, 256u << 20, false };
    static const elf64_policy_t user = { ELF64_ET_DYN, 0, 0x0000800000000000ull, 1ull << 34, false };
    verify(buf, size, &kernel);
    verify(buf, size, &user);
    free(buf);
    return 0;
}
