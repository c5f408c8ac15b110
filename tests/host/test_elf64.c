/* SPDX-License-Identifier: MIT */
/* Host tests of src/lib/elf64.c: every rejection path, and acceptance of good images. */
#include "htest.h"
#include "../../src/lib/elf64.c"

#define BASE 0xffffffff80000000ull

typedef struct {
    elf64_header_t eh;
    elf64_phdr_t ph[3];
    uint8_t body[3 * 4096];
} image_t;

static const elf64_policy_t kernel_policy = {
    .type = ELF64_ET_EXEC, .vaddr_min = BASE, .vaddr_max = 0xfffffffffffff000ull,
    .max_image_size = 1 << 20, .allow_interp = false,
};

/* A valid three-segment kernel-like image: text RX, rodata R, data RW (+bss). */
static image_t *good_image(void)
{
    image_t *img = calloc(1, sizeof(*img));
    memcpy(img->eh.ident, "\x7f" "ELF", 4);
    img->eh.ident[4] = 2;
    img->eh.ident[5] = 1;
    img->eh.ident[6] = 1;
    img->eh.type = ELF64_ET_EXEC;
    img->eh.machine = ELF64_EM_X86_64;
    img->eh.version = 1;
    img->eh.entry = BASE + 0x10;
    img->eh.phoff = offsetof(image_t, ph);
    img->eh.phentsize = sizeof(elf64_phdr_t);
    img->eh.phnum = 3;
    img->eh.ehsize = sizeof(elf64_header_t);
    uint32_t flags[3] = { ELF64_PF_R | ELF64_PF_X, ELF64_PF_R, ELF64_PF_R | ELF64_PF_W };
    for (int i = 0; i < 3; i++) {
        img->ph[i].type = ELF64_PT_LOAD;
        img->ph[i].flags = flags[i];
        img->ph[i].offset = 4096 * (uint64_t)i; /* file offsets congruent to vaddr */
        img->ph[i].vaddr = BASE + 4096 * (uint64_t)i;
        img->ph[i].filesz = 100;
        img->ph[i].memsz = i == 2 ? 4096 : 100;
        img->ph[i].align = 4096;
    }
    return img;
}

static elf64_error_t check(image_t *img, size_t size)
{
    elf64_image_t out;
    return elf64_check(img, size, &kernel_policy, &out);
}

HTEST(accepts_good_image)
{
    image_t *img = good_image();
    elf64_image_t out;
    HTEST_EXPECT_EQ(elf64_check(img, sizeof(*img), &kernel_policy, &out), ELF64_OK);
    HTEST_EXPECT_EQ(out.vaddr_lo, BASE);
    HTEST_EXPECT_EQ(out.vaddr_hi, BASE + 3 * 4096);
    HTEST_EXPECT_EQ(out.entry, BASE + 0x10);
    HTEST_EXPECT_EQ(out.phnum, 3);
    HTEST_EXPECT_EQ(out.tls_index, -1);
    HTEST_EXPECT_EQ(out.phdr_vaddr, BASE + offsetof(image_t, ph));
    free(img);
}

HTEST(rejects_truncated_header)
{
    image_t *img = good_image();
    for (size_t n = 0; n < sizeof(elf64_header_t); n++)
        HTEST_EXPECT_EQ(check(img, n), ELF64_E_TRUNCATED);
    free(img);
}

HTEST(rejects_bad_ident)
{
    image_t *img = good_image();
    img->eh.ident[1] = 'X';
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_MAGIC);
    img->eh.ident[1] = 'E';
    img->eh.ident[4] = 1; /* 32-bit */
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_CLASS);
    img->eh.ident[4] = 2;
    img->eh.ident[5] = 2; /* big-endian */
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_CLASS);
    img->eh.ident[5] = 1;
    img->eh.machine = 3; /* i386 */
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_MACHINE);
    img->eh.machine = ELF64_EM_X86_64;
    img->eh.type = ELF64_ET_DYN;
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_TYPE);
    free(img);
}

HTEST(rejects_program_header_table_problems)
{
    image_t *img = good_image();
    img->eh.phentsize = 32;
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_PHDR);
    img->eh.phentsize = sizeof(elf64_phdr_t);
    img->eh.phnum = 0;
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_PHDR);
    img->eh.phnum = 3;
    img->eh.phoff = UINT64_MAX - 8; /* wraps */
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_PHDR);
    img->eh.phoff = offsetof(image_t, ph);
    /* table cut off by the end of the file */
    HTEST_EXPECT_EQ(check(img, offsetof(image_t, ph) + 2 * sizeof(elf64_phdr_t)), ELF64_E_PHDR);
    free(img);
}

HTEST(rejects_segment_problems)
{
    image_t *img = good_image();
    img->ph[1].filesz = 200; /* filesz > memsz */
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_SEGMENT);
    img->ph[1].filesz = 100;
    img->ph[2].offset = sizeof(*img) - 50; /* file range past the end */
    img->ph[2].vaddr = BASE + 2 * 4096 + (img->ph[2].offset % 4096);
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_SEGMENT);
    free(img);
    img = good_image();
    img->ph[2].memsz = UINT64_MAX; /* vaddr + memsz wraps */
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_SEGMENT);
    img->ph[2].memsz = 0;
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_SEGMENT);
    free(img);
}

HTEST(rejects_alignment_problems)
{
    image_t *img = good_image();
    img->ph[1].align = 3000; /* not a power of two */
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_ALIGN);
    img->ph[1].align = 1ull << 40; /* absurd */
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_ALIGN);
    img->ph[1].align = 4096;
    img->ph[1].vaddr += 8; /* vaddr and offset disagree mod the page size */
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_ALIGN);
    free(img);
}

HTEST(rejects_range_overlap_entry_interp)
{
    image_t *img = good_image();
    img->ph[0].vaddr = 0x400000; /* below the allowed range */
    img->ph[0].offset = 0;
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_RANGE);
    free(img);

    img = good_image();
    img->ph[1].vaddr = BASE; /* same page as text */
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_OVERLAP);
    free(img);

    img = good_image();
    img->eh.entry = BASE + 4096 + 4; /* in rodata: not executable */
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_ENTRY);
    img->eh.entry = 0;
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_ENTRY);
    free(img);

    img = good_image();
    img->ph[1].type = ELF64_PT_INTERP;
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_INTERP);
    free(img);

    img = good_image();
    for (int i = 0; i < 3; i++)
        img->ph[i].type = ELF64_PT_NULL;
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_NO_LOAD);
    free(img);
}

HTEST(rejects_image_larger_than_policy)
{
    image_t *img = good_image();
    img->ph[2].memsz = 2 << 20; /* bss of 2 MiB > max_image_size 1 MiB */
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_RANGE);
    free(img);
}

HTEST(tls_segment_recorded_and_checked)
{
    image_t *img = good_image();
    img->ph[1].type = ELF64_PT_TLS;
    elf64_image_t out;
    HTEST_EXPECT_EQ(elf64_check(img, sizeof(*img), &kernel_policy, &out), ELF64_OK);
    HTEST_EXPECT_EQ(out.tls_index, 1);
    img->ph[1].offset = sizeof(*img); /* TLS image outside the file */
    HTEST_EXPECT_EQ(check(img, sizeof(*img)), ELF64_E_SEGMENT);
    free(img);
}

HTEST(every_error_has_a_message)
{
    for (int e = ELF64_OK; e <= ELF64_E_INTERP; e++)
        HTEST_EXPECT(strcmp(elf64_error_string((elf64_error_t)e), "unknown error") != 0);
    HTEST_EXPECT_STR(elf64_error_string((elf64_error_t)999), "unknown error");
}

HTEST_MAIN()
