/* SPDX-License-Identifier: MIT */
/* In-kernel tests of boot facts: boot info, command line, symbol map, log ring. */
#include "core/kernel.h"
#include "core/log.h"
#include "core/string.h"
#include "lib/symmap.h"
#include "mm/mm.h"
#include "test/ktest.h"

void kernel_main(const vk_boot_info_t *info);

KTEST(boot_info_is_consistent)
{
    const vk_boot_info_t *b = kernel_boot_info();
    KTEST_EXPECT_EQ(b->magic, VK_BOOT_MAGIC);
    KTEST_EXPECT_EQ(b->size, sizeof(vk_boot_info_t));
    KTEST_EXPECT(b->memory_map_count > 0);
    KTEST_EXPECT(b->direct_map_size >= (4ull << 30));
    KTEST_EXPECT_EQ(b->kernel_virt_base, VK_BOOT_KERNEL_BASE);
    KTEST_EXPECT(b->acpi_rsdp != 0);
    KTEST_EXPECT(b->smp_trampoline != 0 && b->smp_trampoline < 0xa0000);
    KTEST_EXPECT(b->tsc_kernel_jump > b->tsc_loader_entry);
}

KTEST(memory_map_sorted_and_kernel_reserved)
{
    const vk_boot_info_t *b = kernel_boot_info();
    const vk_boot_mem_region_t *r = phys_to_virt(b->memory_map);
    bool kernel_covered = false;
    for (uint32_t i = 0; i < b->memory_map_count; i++) {
        if (i)
            KTEST_EXPECT(r[i].base >= r[i - 1].base + r[i - 1].length);
        if (r[i].type == VK_MEM_KERNEL && r[i].base <= b->kernel_phys_base &&
            r[i].base + r[i].length >= b->kernel_phys_base + b->kernel_phys_size)
            kernel_covered = true;
    }
    KTEST_EXPECT(kernel_covered);
}

KTEST(command_line_parsed)
{
    const cmdline_t *c = kernel_cmdline();
    KTEST_EXPECT(cmdline_has(c, "test"));
    KTEST_EXPECT(strcmp(cmdline_get(c, "test"), "kernel") == 0);
}

KTEST(symbol_map_names_kernel_functions)
{
    const vk_boot_module_t *m = kernel_find_module("vkernel.map");
    KTEST_EXPECT(m != NULL);
    if (!m)
        return;
    symmap_result_t r;
    uint64_t addr = (uint64_t)&kernel_main;
    KTEST_EXPECT(symmap_lookup(phys_to_virt(m->base), m->size, addr + 3, &r));
    KTEST_EXPECT(strcmp(r.name, "kernel_main") == 0);
    KTEST_EXPECT_EQ(r.offset, 3);
    uint64_t found = 0;
    KTEST_EXPECT(symmap_find(phys_to_virt(m->base), m->size, "kernel_main", &found));
    KTEST_EXPECT_EQ(found, addr);
}

KTEST(memset_memcpy_bulk_and_tail)
{
    uint8_t a[64], b[64];
    for (size_t off = 0; off < 9; off++) {
        for (size_t n = 0; n < 40; n += 3) {
            memset(a, 0x11, sizeof(a));
            memset(a + off, 0xab, n);
            for (size_t i = 0; i < sizeof(a); i++)
                KTEST_EXPECT_EQ(a[i], (i >= off && i < off + n) ? 0xab : 0x11);
            for (size_t i = 0; i < sizeof(b); i++)
                b[i] = (uint8_t)i;
            memset(a, 0, sizeof(a));
            memcpy(a + off, b + 1, n);
            for (size_t i = 0; i < sizeof(a); i++)
                KTEST_EXPECT_EQ(a[i], (i >= off && i < off + n) ? b[i - off + 1] : 0);
        }
    }
}

KTEST(string_functions)
{
    char buf[32];
    memset(buf, 'x', sizeof(buf));
    KTEST_EXPECT_EQ(strlcpy(buf, "hello", 4), 5);
    KTEST_EXPECT(strcmp(buf, "hel") == 0);
    memcpy(buf, "abcdef", 7);
    memmove(buf + 1, buf, 5); /* overlapping, forwards */
    KTEST_EXPECT(memcmp(buf, "aabcdef", 6) == 0);
    memmove(buf, buf + 1, 5); /* overlapping, backwards */
    KTEST_EXPECT(memcmp(buf, "abcde", 5) == 0);
    KTEST_EXPECT(strncmp("abc", "abd", 2) == 0);
    KTEST_EXPECT(strchr("abc", 'c') != NULL);
}
