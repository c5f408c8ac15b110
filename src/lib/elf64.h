/* SPDX-License-Identifier: MIT */
/*
 * ELF64 definitions (from the System V gABI and the x86-64 psABI) and validation of
 * untrusted images. elf64_check() verifies everything a loader relies on before it
 * touches a segment: header fields, program-header table bounds, every PT_LOAD's file
 * range, size and alignment, no overlapping segments, and the entry point lying in an
 * executable segment. Pure logic: used by the UEFI loader, the kernel, host tests and
 * fuzzers.
 */
#ifndef SRC_LIB_ELF64_H
#define SRC_LIB_ELF64_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define ELF64_ET_EXEC 2
#define ELF64_ET_DYN  3
#define ELF64_EM_X86_64 62

#define ELF64_PT_NULL   0
#define ELF64_PT_LOAD   1
#define ELF64_PT_INTERP 3
#define ELF64_PT_TLS    7

#define ELF64_PF_X 1u
#define ELF64_PF_W 2u
#define ELF64_PF_R 4u

typedef struct {
    uint8_t  ident[16];
    uint16_t type;
    uint16_t machine;
    uint32_t version;
    uint64_t entry;
    uint64_t phoff;
    uint64_t shoff;
    uint32_t flags;
    uint16_t ehsize;
    uint16_t phentsize;
    uint16_t phnum;
    uint16_t shentsize;
    uint16_t shnum;
    uint16_t shstrndx;
} elf64_header_t;
_Static_assert(sizeof(elf64_header_t) == 64, "elf64_header_t size");

typedef struct {
    uint32_t type;
    uint32_t flags;
    uint64_t offset;
    uint64_t vaddr;
    uint64_t paddr;
    uint64_t filesz;
    uint64_t memsz;
    uint64_t align;
} elf64_phdr_t;
_Static_assert(sizeof(elf64_phdr_t) == 56, "elf64_phdr_t size");

/* What the caller accepts. */
typedef struct {
    uint16_t type;          /* ELF64_ET_EXEC or ELF64_ET_DYN */
    uint64_t vaddr_min;     /* every PT_LOAD must lie inside [vaddr_min, vaddr_max) */
    uint64_t vaddr_max;
    uint64_t max_image_size; /* total span of the loadable segments */
    bool     allow_interp;  /* PT_INTERP present is an error unless set */
} elf64_policy_t;

/* What the check learned, valid when elf64_check returns ELF64_OK. */
typedef struct {
    const elf64_phdr_t *phdrs;   /* inside the caller's buffer (may be unaligned: copy out) */
    uint16_t phnum;
    uint64_t vaddr_lo;           /* lowest PT_LOAD address, page aligned down */
    uint64_t vaddr_hi;           /* end of the highest PT_LOAD, page aligned up */
    uint64_t entry;
    uint64_t phdr_vaddr;         /* where the program headers are mapped, 0 if not loaded */
    int      tls_index;          /* index of PT_TLS, or -1 */
} elf64_image_t;

typedef enum {
    ELF64_OK = 0,
    ELF64_E_TRUNCATED,      /* file shorter than a structure it declares */
    ELF64_E_MAGIC,          /* not \x7fELF */
    ELF64_E_CLASS,          /* not ELFCLASS64 little-endian version 1 */
    ELF64_E_MACHINE,        /* not x86-64 */
    ELF64_E_TYPE,           /* not the type the policy asks for */
    ELF64_E_PHDR,           /* program-header table malformed or outside the file */
    ELF64_E_NO_LOAD,        /* no PT_LOAD segment */
    ELF64_E_SEGMENT,        /* filesz > memsz, file range outside the file, wraps */
    ELF64_E_ALIGN,          /* alignment not a power of two or vaddr/offset disagree */
    ELF64_E_RANGE,          /* segment outside the allowed address range or too large */
    ELF64_E_OVERLAP,        /* two PT_LOAD segments share a page */
    ELF64_E_ENTRY,          /* entry point not inside an executable segment */
    ELF64_E_INTERP,         /* PT_INTERP: a dynamically linked program */
} elf64_error_t;

elf64_error_t elf64_check(const void *file, size_t size, const elf64_policy_t *policy,
                          elf64_image_t *out);
const char *elf64_error_string(elf64_error_t err);
/* Copy program header i out of the (possibly unaligned) table. */
void elf64_phdr_get(const elf64_image_t *img, unsigned i, elf64_phdr_t *out);

#endif
