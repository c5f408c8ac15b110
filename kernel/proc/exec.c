/* SPDX-License-Identifier: MIT */
/*
 * ELF64 program loading for ring 3: static-PIE (ET_DYN, loaded at EXEC_PIE_BASE) and
 * static non-PIE (ET_EXEC at its own addresses) executables. Everything about the file
 * is checked by elf64_check (src/lib/elf64.c) before one byte is mapped; a bad file is
 * an errno and a log line, never a fault.
 *
 * The initial stack is the one Linux builds (System V x86-64 psABI, 3.4.1, and Linux's
 * create_elf_tables): from the top, the strings (execfn, argv, envp), 16 random bytes,
 * then 16-byte aligned: argc, argv[], NULL, envp[], NULL, auxv pairs, AT_NULL.
 */
#include "proc/exec.h"
#include "core/log.h"
#include "core/string.h"
#include "mm/mm.h"
#include "lib/elf64.h"
#include "time/time.h"
#include "arch/x86_64/arch.h"
#include <vk/errno.h>
#include <vk/vk.h>
#include "sys/vkapi.h"
#include "config.h"

#define AT_NULL 0
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_FLAGS 8
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_EXECFN 31

static unsigned prot_of(uint32_t flags)
{
    unsigned prot = 0;
    if (flags & ELF64_PF_R)
        prot |= ASPACE_PROT_READ;
    if (flags & ELF64_PF_W)
        prot |= ASPACE_PROT_WRITE;
    if (flags & ELF64_PF_X)
        prot |= ASPACE_PROT_EXEC;
    return prot;
}

static int load_segments(process_t *p, const uint8_t *elf, const elf64_image_t *img,
                         uint64_t bias)
{
    for (unsigned i = 0; i < img->phnum; i++) {
        elf64_phdr_t ph;
        elf64_phdr_get(img, i, &ph);
        if (ph.type != ELF64_PT_LOAD)
            continue;
        uint64_t start = (ph.vaddr + bias) & ~0xfffull;
        uint64_t end = (ph.vaddr + bias + ph.memsz + 0xfff) & ~0xfffull;
        int err = aspace_map(p->aspace, start, end - start, prot_of(ph.flags), ASPACE_ANON,
                             "image");
        if (err)
            return err;
        err = aspace_write(p->aspace, ph.vaddr + bias, elf + ph.offset, ph.filesz);
        if (err)
            return err;
        /* bss and the partial page after the file bytes are zero: fresh pages already
         * are, so nothing more to write. */
        if (end > p->image_end)
            p->image_end = end;
    }
    return 0;
}

/* Pushes bytes down from *sp onto the new stack; returns their user address. */
static int push_bytes(process_t *p, uint64_t *sp, const void *data, size_t len, uint64_t *at)
{
    *sp -= len;
    *at = *sp;
    return aspace_write(p->aspace, *sp, data, len);
}

static int count_strings(const char *const *v, unsigned *n, size_t *bytes)
{
    *n = 0;
    for (; v && v[*n]; (*n)++) {
        if (*n >= EXEC_MAX_ARGS)
            return -VK_E2BIG;
        *bytes += strlen(v[*n]) + 1;
        if (*bytes > EXEC_MAX_STRINGS)
            return -VK_E2BIG;
    }
    return 0;
}

static int build_stack(process_t *p, const elf64_image_t *img, uint64_t bias, const char *path,
                       const char *const *argv, const char *const *envp, uint64_t *sp_out)
{
    unsigned argc, envc;
    size_t bytes = 0;
    int err;
    if ((err = count_strings(argv, &argc, &bytes)) || (err = count_strings(envp, &envc, &bytes)))
        return err;
    err = aspace_map(p->aspace, EXEC_STACK_TOP - EXEC_STACK_INITIAL, EXEC_STACK_INITIAL,
                     ASPACE_PROT_READ | ASPACE_PROT_WRITE, ASPACE_ANON | ASPACE_STACK, "stack");
    if (err)
        return err;

    /* The pointer block, built in kernel memory and written with one copy:
     * argc, argv[argc], NULL, envp[envc], NULL, auxv pairs. */
    enum { AUXV_PAIRS = 18 };
    uint64_t words = 1 + argc + 1 + envc + 1 + 2 * AUXV_PAIRS;
    uint64_t *block = kmalloc(words * 8);
    if (!block)
        return -VK_ENOMEM;
    uint64_t *argv_at = block + 1, *envp_at = block + 1 + argc + 1;

    uint64_t sp = EXEC_STACK_TOP, execfn, random_at;
    if ((err = push_bytes(p, &sp, path, strlen(path) + 1, &execfn)))
        goto out;
    for (unsigned i = envc; i-- > 0;)
        if ((err = push_bytes(p, &sp, envp[i], strlen(envp[i]) + 1, &envp_at[i])))
            goto out;
    for (unsigned i = argc; i-- > 0;)
        if ((err = push_bytes(p, &sp, argv[i], strlen(argv[i]) + 1, &argv_at[i])))
            goto out;
    uint64_t random[2] = { arch_rdtsc() * 0x9e3779b97f4a7c15ull, time_monotonic_ns() ^ (uint64_t)p };
    if ((err = push_bytes(p, &sp, random, sizeof(random), &random_at)))
        goto out;

    const uint64_t auxv[AUXV_PAIRS][2] = {
        { AT_PHDR, img->phdr_vaddr ? img->phdr_vaddr + bias : 0 },
        { AT_PHENT, sizeof(elf64_phdr_t) },
        { AT_PHNUM, img->phnum },
        { AT_PAGESZ, 4096 },
        { AT_BASE, 0 },
        { AT_FLAGS, 0 },
        { AT_ENTRY, img->entry + bias },
        { AT_UID, 0 }, { AT_EUID, 0 }, { AT_GID, 0 }, { AT_EGID, 0 },
        { AT_HWCAP, 0 },
        { AT_CLKTCK, 100 },
        { AT_SECURE, 0 },
        { AT_RANDOM, random_at },
        { AT_EXECFN, execfn },
        { AT_VK_API, VK_API_USER_ADDR },
        { AT_NULL, 0 },
    };
    block[0] = argc;
    block[1 + argc] = 0;
    block[1 + argc + 1 + envc] = 0;
    memcpy(block + 1 + argc + 1 + envc + 1, auxv, sizeof(auxv));
    sp = (sp - words * 8) & ~15ull; /* the final stack pointer is 16-byte aligned */
    err = aspace_write(p->aspace, sp, block, words * 8);
    if (!err)
        *sp_out = sp;
out:
    kfree(block);
    return err;
}

int exec_load(process_t *p, const void *elf, size_t size, const char *path,
              const char *const *argv, const char *const *envp, exec_start_t *start)
{
    elf64_image_t img;
    elf64_policy_t policy = {
        .type = ELF64_ET_DYN, .vaddr_min = 0, .vaddr_max = 1ull << 40,
        .max_image_size = 1ull << 32, .allow_interp = false,
    };
    const uint8_t *bytes = elf;
    /* e_type decides the policy: a PIE is placed at EXEC_PIE_BASE, an ET_EXEC where it
     * asks to be (but never in the top of the user half where the stack and API live). */
    if (size >= 18 && bytes[16] == ELF64_ET_EXEC) {
        policy.type = ELF64_ET_EXEC;
        policy.vaddr_min = 0x10000;
        policy.vaddr_max = EXEC_PIE_BASE;
    }
    elf64_error_t e = elf64_check(elf, size, &policy, &img);
    if (e != ELF64_OK) {
        log_write_ratelimited(LOG_LEVEL_WARN, "exec: %s: %s", path, elf64_error_string(e));
        return e == ELF64_E_INTERP ? -VK_ENOEXEC : -VK_ENOEXEC;
    }
    uint64_t bias = policy.type == ELF64_ET_DYN ? EXEC_PIE_BASE - img.vaddr_lo : 0;
    p->image_base = img.vaddr_lo + bias;
    p->image_end = 0;
    int err = load_segments(p, bytes, &img, bias);
    if (err)
        return err;
    err = vkapi_map(p->aspace);
    if (err)
        return err;
    p->brk_start = p->brk = p->image_end + 0x10000; /* a small gap catches overruns */
    err = build_stack(p, &img, bias, path, argv, envp, &start->stack_pointer);
    if (err)
        return err;
    start->entry = img.entry + bias;
    return 0;
}

int exec_read_file(vnode_t *cwd, const char *path, void **bytes, size_t *size)
{
    vnode_t *v;
    int err = vfs_lookup(cwd, path, &v);
    if (err)
        return err;
    vfs_stat_t st;
    err = vfs_getattr(v, &st);
    if (!err && (v->type != VNODE_REG || !(st.mode & 0111)))
        err = -VK_EACCES;
    else if (!err && st.size > CONFIG_EXEC_FILE_MAX) {
        log_write_ratelimited(LOG_LEVEL_WARN, "exec: %s: %llu bytes is above CONFIG_EXEC_FILE_MAX",
                              path, (unsigned long long)st.size);
        err = -VK_ENOEXEC;
    }
    uint8_t *buf = NULL;
    if (!err && !(buf = kmalloc(st.size ? st.size : 1)))
        err = -VK_ENOMEM;
    if (!err) {
        long n = vfs_read_vnode(v, 0, vfs_kbuf(buf), st.size);
        if (n < 0 || (uint64_t)n != st.size)
            err = n < 0 ? (int)n : -VK_EIO;
    }
    vnode_unref(v);
    if (err) {
        kfree(buf);
        return err;
    }
    *bytes = buf;
    *size = st.size;
    return 0;
}
