/* SPDX-License-Identifier: MIT */
/*
 * ELF64 validation. Every field is treated as hostile: all arithmetic on offsets and
 * sizes is checked for wrap-around before use, and nothing outside [file, file+size) is
 * ever read. The caller's buffer may be unaligned, so structures are copied out bytewise.
 */
#include "lib/elf64.h"

#define ELF64_PAGE 4096ull

static void copy_bytes(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
}

/* a + b without wrap; false if it would wrap. */
static bool add_ok(uint64_t a, uint64_t b, uint64_t *sum)
{
    *sum = a + b;
    return *sum >= a;
}

void elf64_phdr_get(const elf64_image_t *img, unsigned i, elf64_phdr_t *out)
{
    copy_bytes(out, (const unsigned char *)img->phdrs + (size_t)i * sizeof(elf64_phdr_t),
               sizeof(*out));
}

static elf64_error_t check_header(const void *file, size_t size, const elf64_policy_t *policy,
                                  elf64_header_t *eh)
{
    if (size < sizeof(*eh))
        return ELF64_E_TRUNCATED;
    copy_bytes(eh, file, sizeof(*eh));
    if (eh->ident[0] != 0x7f || eh->ident[1] != 'E' || eh->ident[2] != 'L' || eh->ident[3] != 'F')
        return ELF64_E_MAGIC;
    /* EI_CLASS = ELFCLASS64, EI_DATA = little-endian, EI_VERSION = 1 */
    if (eh->ident[4] != 2 || eh->ident[5] != 1 || eh->ident[6] != 1 || eh->version != 1)
        return ELF64_E_CLASS;
    if (eh->machine != ELF64_EM_X86_64)
        return ELF64_E_MACHINE;
    if (eh->type != policy->type)
        return ELF64_E_TYPE;
    if (eh->phentsize != sizeof(elf64_phdr_t) || eh->phnum == 0 || eh->phnum >= 0xffff)
        return ELF64_E_PHDR;
    uint64_t table_end;
    if (!add_ok(eh->phoff, (uint64_t)eh->phnum * sizeof(elf64_phdr_t), &table_end) ||
        table_end > size)
        return ELF64_E_PHDR;
    return ELF64_OK;
}

static elf64_error_t check_load(const elf64_phdr_t *ph, size_t size, const elf64_policy_t *policy)
{
    uint64_t file_end, mem_end;
    if (ph->filesz > ph->memsz)
        return ELF64_E_SEGMENT;
    if (!add_ok(ph->offset, ph->filesz, &file_end) || file_end > size)
        return ELF64_E_SEGMENT;
    if (!add_ok(ph->vaddr, ph->memsz, &mem_end) || ph->memsz == 0)
        return ELF64_E_SEGMENT;
    if (ph->align > 1) {
        if (ph->align & (ph->align - 1))
            return ELF64_E_ALIGN;
        if (ph->align > (1ull << 30))
            return ELF64_E_ALIGN;
        if ((ph->vaddr - ph->offset) % ph->align)
            return ELF64_E_ALIGN;
    }
    if ((ph->vaddr - ph->offset) % ELF64_PAGE)
        return ELF64_E_ALIGN;
    if (ph->vaddr < policy->vaddr_min || mem_end > policy->vaddr_max)
        return ELF64_E_RANGE;
    return ELF64_OK;
}

elf64_error_t elf64_check(const void *file, size_t size, const elf64_policy_t *policy,
                          elf64_image_t *out)
{
    elf64_header_t eh;
    elf64_error_t err = check_header(file, size, policy, &eh);
    if (err != ELF64_OK)
        return err;

    out->phdrs = (const elf64_phdr_t *)((const unsigned char *)file + eh.phoff);
    out->phnum = eh.phnum;
    out->entry = eh.entry;
    out->phdr_vaddr = 0;
    out->tls_index = -1;
    out->vaddr_lo = UINT64_MAX;
    out->vaddr_hi = 0;

    unsigned loads = 0;
    bool entry_ok = false;
    for (unsigned i = 0; i < eh.phnum; i++) {
        elf64_phdr_t ph;
        elf64_phdr_get(out, i, &ph);
        if (ph.type == ELF64_PT_INTERP && !policy->allow_interp)
            return ELF64_E_INTERP;
        if (ph.type == ELF64_PT_TLS) {
            uint64_t end;
            if (ph.filesz > ph.memsz || !add_ok(ph.offset, ph.filesz, &end) || end > size)
                return ELF64_E_SEGMENT;
            out->tls_index = (int)i;
        }
        if (ph.type != ELF64_PT_LOAD)
            continue;
        err = check_load(&ph, size, policy);
        if (err != ELF64_OK)
            return err;
        uint64_t lo = ph.vaddr & ~(ELF64_PAGE - 1);
        uint64_t hi = (ph.vaddr + ph.memsz + ELF64_PAGE - 1) & ~(ELF64_PAGE - 1);
        if (hi < lo) /* rounding wrapped at the top of the address space */
            return ELF64_E_RANGE;
        /* Segments must not share a page: each page gets exactly one set of rights. */
        for (unsigned j = 0; j < i; j++) {
            elf64_phdr_t other;
            elf64_phdr_get(out, j, &other);
            if (other.type != ELF64_PT_LOAD)
                continue;
            uint64_t olo = other.vaddr & ~(ELF64_PAGE - 1);
            uint64_t ohi = (other.vaddr + other.memsz + ELF64_PAGE - 1) & ~(ELF64_PAGE - 1);
            if (lo < ohi && olo < hi)
                return ELF64_E_OVERLAP;
        }
        if (lo < out->vaddr_lo)
            out->vaddr_lo = lo;
        if (hi > out->vaddr_hi)
            out->vaddr_hi = hi;
        if ((ph.flags & ELF64_PF_X) && eh.entry >= ph.vaddr && eh.entry < ph.vaddr + ph.memsz)
            entry_ok = true;
        /* The program headers are visible in memory when a segment maps their file bytes. */
        if (eh.phoff >= ph.offset && eh.phoff < ph.offset + ph.filesz)
            out->phdr_vaddr = ph.vaddr + (eh.phoff - ph.offset);
        loads++;
    }
    if (loads == 0)
        return ELF64_E_NO_LOAD;
    if (out->vaddr_hi - out->vaddr_lo > policy->max_image_size)
        return ELF64_E_RANGE;
    if (!entry_ok)
        return ELF64_E_ENTRY;
    return ELF64_OK;
}

const char *elf64_error_string(elf64_error_t err)
{
    switch (err) {
    case ELF64_OK: return "ok";
    case ELF64_E_TRUNCATED: return "file truncated";
    case ELF64_E_MAGIC: return "bad ELF magic";
    case ELF64_E_CLASS: return "not a 64-bit little-endian ELF";
    case ELF64_E_MACHINE: return "wrong machine (not x86-64)";
    case ELF64_E_TYPE: return "wrong ELF type";
    case ELF64_E_PHDR: return "bad program header table";
    case ELF64_E_NO_LOAD: return "no loadable segment";
    case ELF64_E_SEGMENT: return "segment outside the file or inconsistent sizes";
    case ELF64_E_ALIGN: return "bad segment alignment";
    case ELF64_E_RANGE: return "segment outside the allowed address range";
    case ELF64_E_OVERLAP: return "overlapping segments";
    case ELF64_E_ENTRY: return "entry point outside executable code";
    case ELF64_E_INTERP: return "dynamically linked (PT_INTERP) programs are not supported";
    }
    return "unknown error";
}
