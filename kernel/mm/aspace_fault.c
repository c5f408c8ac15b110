/* SPDX-License-Identifier: MIT */
/*
 * Demand paging, stack growth and the loader's access to inactive address spaces.
 *
 * Design notes:
 *   - A fault is resolved only for a region whose rights allow the access (Intel SDM
 *     vol. 3A, 4.7 "Page-Fault Exceptions" for the error code). Everything else is
 *     -VK_EFAULT and the caller delivers SIGSEGV.
 *   - A fault on a present page is a protection fault and fails, unless it is a write
 *     to a copy-on-write page (the copy is made here) or the entry already allows the
 *     access: another thread of the process resolved the same page (paged it in, or
 *     broke its copy-on-write share) while this one waited for the lock, and this CPU
 *     may still hold the old translation. That fault is retried after a local flush.
 *   - In ring 0 only the usercopy routines may fault on user addresses; anywhere else it
 *     is a kernel bug (SMAP catches it on CPUs that have it) and is never paged in.
 *   - aspace_write/read/zero take the lock once per page, so a large ELF image does not
 *     keep interrupts off for the whole copy.
 */
#include "mm/aspace_internal.h"
#include "mm/usercopy.h"
#include "core/log.h"
#include "core/string.h"

#define PF_PRESENT  (1ull << 0)
#define PF_WRITE    (1ull << 1)
#define PF_USER     (1ull << 2)
#define PF_RESERVED (1ull << 3)
#define PF_FETCH    (1ull << 4)

/* The present entry pte already permits the access that faulted. */
static bool entry_allows(uint64_t pte, uint64_t error_code)
{
    if ((error_code & PF_WRITE) && !(pte & ASPACE_PTE_W))
        return false;
    if ((error_code & PF_FETCH) && (pte & ASPACE_PTE_NX))
        return false;
    return !(error_code & PF_USER) || (pte & ASPACE_PTE_U);
}

static bool access_allowed(unsigned prot, uint64_t error_code)
{
    if (error_code & PF_FETCH)
        return prot & ASPACE_PROT_EXEC;
    if (error_code & PF_WRITE)
        return prot & ASPACE_PROT_WRITE;
    return prot != 0; /* every present x86 page is readable */
}

/* A fault below a stack region within CONFIG_USER_STACK_MAX of its top grows it, if a
 * guard page stays free above the region below. Lock held. */
static aspace_region_t *grow_stack(aspace_t *as, uint64_t addr)
{
    unsigned i = aspace_region_index(as, addr);
    if (i >= as->region_count)
        return NULL;
    aspace_region_t *r = &as->regions[i];
    uint64_t new_start = addr & ~(PAGE_SIZE - 1);
    if (!(r->flags & ASPACE_STACK) || r->start <= addr)
        return NULL;
    if (r->end - new_start > CONFIG_USER_STACK_MAX || new_start < CONFIG_USER_MIN_ADDR)
        return NULL;
    uint64_t floor = i > 0 ? as->regions[i - 1].end : 0;
    if (new_start < floor + PAGE_SIZE)
        return NULL;
    r->start = new_start;
    return r;
}

int aspace_fault(aspace_t *as, uint64_t addr, uint64_t error_code)
{
    if (!as || addr >= ASPACE_USER_LIMIT || (error_code & PF_RESERVED))
        return -VK_EFAULT;
    int err = 0;
    uint64_t page = addr & ~(PAGE_SIZE - 1);
    uint64_t f = spinlock_lock_irqsave(&as->lock);
    aspace_region_t *r = aspace_region_at(as, addr);
    if (!r && !(error_code & PF_FETCH))
        r = grow_stack(as, addr);
    if (!r || !access_allowed(r->prot, error_code)) {
        err = -VK_EFAULT;
        goto unlock;
    }
    uint64_t *pte = aspace_pt_entry(as, page, true);
    if (!pte) {
        err = -VK_ENOMEM;
        goto unlock;
    }
    if (*pte & ASPACE_PTE_P) {
        /* A write to a page shared by fork copies it; any other protection fault on a
         * present page is the program's error. */
        if ((*pte & ASPACE_PTE_COW) && (error_code & PF_WRITE))
            err = aspace_cow_break(as, pte, page, r->prot);
        else if (entry_allows(*pte, error_code))
            arch_tlb_flush_local(page, 1); /* resolved by another thread meanwhile */
        else
            err = -VK_EFAULT;
        goto unlock;
    }
    if (*pte & ASPACE_PTE_COW) {
        /* A shared frame kept under PROT_NONE, now accessible again. */
        err = aspace_cow_break(as, pte, page, r->prot);
        goto unlock;
    }
    uint64_t frame = *pte & ASPACE_PTE_ADDR;
    if (!frame && (r->flags & ASPACE_SHARED)) {
        err = -VK_EFAULT; /* shared pages are mapped whole; nothing to demand-page */
        goto unlock;
    }
    if (!frame) {
        frame = aspace_pt_frame_alloc();
        if (!frame) {
            err = -VK_ENOMEM;
            goto unlock;
        }
        as->resident_pages++;
    }
    /* A non-present page is not in the TLB (SDM 4.10.4.3): no flush needed. */
    *pte = aspace_pt_make(frame, r->prot) | (*pte & ASPACE_PTE_SHARED);
unlock:
    spinlock_unlock_irqrestore(&as->lock, f);
    return err;
}

bool aspace_handle_page_fault(arch_frame_t *frame, uint64_t cr2)
{
    bool user = arch_frame_from_user(frame);
    if (cr2 >= ASPACE_LOWER_HALF_END)
        return !user && aspace_sync_kernel_entry(cr2);
    aspace_t *as = aspace_current();
    if (!user && !usercopy_owns_rip(frame->rip)) {
        log_error("aspace: kernel access to user address 0x%llx at rip 0x%llx outside usercopy",
                  (unsigned long long)cr2, (unsigned long long)frame->rip);
        return false;
    }
    if (!as)
        return false;
    int err = aspace_fault(as, cr2, frame->error_code);
    static bool warned;
    if (err == -VK_ENOMEM && !__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED))
        log_warn("aspace: out of memory paging in 0x%llx (warned once)", (unsigned long long)cr2);
    return err == 0;
}

typedef enum { XFER_WRITE, XFER_READ, XFER_ZERO } xfer_t;

/* True when [start, end) lies in regions without holes. Lock held. */
static bool covered(aspace_t *as, uint64_t start, uint64_t end)
{
    for (unsigned i = aspace_region_index(as, start); start < end; i++) {
        if (i >= as->region_count || as->regions[i].start > start)
            return false;
        start = as->regions[i].end;
    }
    return true;
}

/* One page's worth of a transfer: [va, va + n) within one page. Lock held. */
static int xfer_page(aspace_t *as, uint64_t va, uint8_t *buf, size_t n, xfer_t op)
{
    const aspace_region_t *r = aspace_region_at(as, va);
    if (!r)
        return -VK_EFAULT; /* unmapped since the check: only a racing unmap does this */
    uint64_t *pte = aspace_pt_entry(as, va & ~(PAGE_SIZE - 1), op == XFER_WRITE);
    /* The kernel writes through the direct map: a frame shared by fork is copied first. */
    if (op != XFER_READ && pte && (*pte & ASPACE_PTE_COW)) {
        int err = aspace_cow_break(as, pte, va & ~(PAGE_SIZE - 1), r->prot);
        if (err)
            return err;
    }
    uint64_t frame = pte ? *pte & ASPACE_PTE_ADDR : 0;
    if (op == XFER_WRITE && !frame) {
        if (!pte || !(frame = aspace_pt_frame_alloc()))
            return -VK_ENOMEM;
        as->resident_pages++;
        *pte = aspace_pt_make(frame, r->prot);
    }
    uint8_t *p = frame ? (uint8_t *)phys_to_virt(frame) + (va & (PAGE_SIZE - 1)) : NULL;
    switch (op) {
    case XFER_WRITE:
        memcpy(p, buf, n);
        break;
    case XFER_READ:
        if (p)
            memcpy(buf, p, n);
        else
            memset(buf, 0, n); /* never touched: demand-zero */
        break;
    case XFER_ZERO:
        if (p)
            memset(p, 0, n);
        break;
    }
    return 0;
}

static int xfer(aspace_t *as, uint64_t va, uint8_t *buf, size_t len, xfer_t op)
{
    if (len == 0)
        return 0;
    if (va >= ASPACE_USER_LIMIT || len > ASPACE_USER_LIMIT - va)
        return -VK_EFAULT;
    uint64_t f = spinlock_lock_irqsave(&as->lock);
    bool ok = covered(as, va, va + len);
    spinlock_unlock_irqrestore(&as->lock, f);
    if (!ok)
        return -VK_EFAULT;
    while (len) {
        size_t n = PAGE_SIZE - (va & (PAGE_SIZE - 1));
        if (n > len)
            n = len;
        f = spinlock_lock_irqsave(&as->lock);
        int err = xfer_page(as, va, buf, n, op);
        spinlock_unlock_irqrestore(&as->lock, f);
        if (err)
            return err;
        va += n;
        len -= n;
        if (buf)
            buf += n;
    }
    return 0;
}

int aspace_write(aspace_t *as, uint64_t dst, const void *src, size_t len)
{
    return xfer(as, dst, (uint8_t *)(uintptr_t)src, len, XFER_WRITE);
}

int aspace_zero(aspace_t *as, uint64_t dst, size_t len)
{
    return xfer(as, dst, NULL, len, XFER_ZERO);
}

int aspace_read(aspace_t *as, uint64_t src, void *dst, size_t len)
{
    return xfer(as, src, dst, len, XFER_READ);
}
