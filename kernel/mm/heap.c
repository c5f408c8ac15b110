/* SPDX-License-Identifier: MIT */
/*
 * Kernel heap: kmalloc/kzalloc/kfree over slab caches and whole buddy blocks.
 *
 * Design notes:
 * - Requests up to 2048 bytes go to one of eight power-of-two size classes (16..2048),
 *   each a slab cache whose slabs are single pmm pages. Larger requests get a whole
 *   buddy block of 2^order pages that starts with a heap_large_t header (16 bytes; 32
 *   with SLAB_DEBUG, which adds the allocating call site).
 * - kfree() finds out what a pointer is from the page it lies in, because both kinds
 *   keep their header at the start of that page: a slab page starts with the slab header
 *   (slab_cache_of), a large block with HEAP_LARGE_MAGIC and the pointer sits right after
 *   the header. Single-page slabs are what make this work; the price is that the 1024 and
 *   2048 classes fit only 3 and 1 objects per page.
 * - Everything returned is 16-byte aligned. kmalloc(0) returns a minimum-size object.
 * - Bad frees panic with the address and what was wrong: the slab core detects
 *   double frees and interior pointers (plus redzone/poison damage with SLAB_DEBUG);
 *   large blocks are checked by header magic. Not checked: a pointer into the interior
 *   of a large block whose page happens to start with a valid-looking large header.
 * - SLAB_DEBUG (make DEBUG=1), KASAN-lite: the slab core's redzones, poison and
 *   quarantine (slab.h) plus the kmalloc and kfree callers, which reports name. A large
 *   block gets at least HEAP_LARGE_REDZONE bytes of redzone after the object, checked
 *   on kfree, and its object starts poisoned. Large blocks go straight back to the buddy
 *   allocator: a use after free of one is not caught.
 * - Locking: one spinlock per size class; the slab page provider calls into pmm while it
 *   is held, so the lock order is heap class lock -> pmm lock.
 */
#include "mm/mm.h"
#include "mm/slab.h"
#include "config.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/string.h"
#include "core/spinlock.h"
#include "lib/fmt.h"
#include <stdarg.h>

#define HEAP_MIN_SHIFT    4u  /* smallest class: 16 bytes */
#define HEAP_MAX_SHIFT    11u /* largest class: 2048 bytes */
#define HEAP_CLASS_COUNT  (HEAP_MAX_SHIFT - HEAP_MIN_SHIFT + 1)
#define HEAP_MAX_SMALL    (1u << HEAP_MAX_SHIFT)
#define HEAP_ALIGN        16u

#define HEAP_LARGE_MAGIC  0x4547524cu /* "LRGE": live large block */
#define HEAP_LARGE_FREED  0x44455246u /* "FRED": left behind by kfree to spot double frees */
#ifdef SLAB_DEBUG
#define HEAP_LARGE_REDZONE SLAB_REDZONE_BYTES
#else
#define HEAP_LARGE_REDZONE 0u
#endif

typedef struct {
    uint32_t magic;
    uint32_t order;   /* buddy order of the whole block */
    uint64_t size;    /* bytes requested, for debugging */
#ifdef SLAB_DEBUG
    uint64_t site;    /* the kmalloc caller (lock classes, docs/sched.md) */
    uint64_t unused;
#endif
} heap_large_t;
_Static_assert(sizeof(heap_large_t) % HEAP_ALIGN == 0, "large header keeps 16-byte alignment");

static struct heap_class {
    spinlock_t lock;
    /* Guarded by lock. */
    slab_cache_t cache;
} heap_classes[HEAP_CLASS_COUNT];

static const char *const heap_class_names[HEAP_CLASS_COUNT] = {
    "kmalloc-16", "kmalloc-32", "kmalloc-64", "kmalloc-128",
    "kmalloc-256", "kmalloc-512", "kmalloc-1024", "kmalloc-2048",
};

static bool heap_ready; /* written once by heap_init before other CPUs run */
static heap_report_capture_t *capture; /* self-tests only (heap_capture_reports) */

/* ---- slab page provider and error reports ------------------------------------------- */

static unsigned order_for_bytes(uint64_t bytes)
{
    unsigned order = 0;
    while ((PAGE_SIZE << order) < bytes)
        order++;
    return order;
}

static void *heap_page_alloc(void *ctx, size_t bytes)
{
    (void)ctx;
    uint64_t phys = pmm_alloc_pages(order_for_bytes(bytes));
    return phys ? phys_to_virt(phys) : NULL;
}

static void heap_page_free(void *ctx, void *pages, size_t bytes)
{
    (void)ctx;
    pmm_free_pages(virt_to_phys(pages), order_for_bytes(bytes));
}

/* Every heap error ends here: a panic, or a record while a self-test captures. */
__attribute__((format(printf, 3, 4)))
static void heap_error(int error, const void *object, const char *fmt, ...)
{
    char text[sizeof(capture->last_report)];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    heap_report_capture_t *cap = __atomic_load_n(&capture, __ATOMIC_ACQUIRE);
    if (!cap)
        panic("%s", text);
    log_warn("%s (captured by a self-test)", text);
    cap->count++;
    cap->last_error = error;
    cap->last_object = object;
    strlcpy(cap->last_report, text, sizeof(cap->last_report));
}

void heap_capture_reports(heap_report_capture_t *cap)
{
    __atomic_store_n(&capture, cap, __ATOMIC_RELEASE);
}

size_t heap_quarantine_flush(void)
{
    size_t n = 0;
    for (unsigned i = 0; heap_ready && i < HEAP_CLASS_COUNT; i++) {
        uint64_t f = spinlock_lock_irqsave(&heap_classes[i].lock);
        n += slab_quarantine_flush(&heap_classes[i].cache);
        spinlock_unlock_irqrestore(&heap_classes[i].lock, f);
    }
    return n;
}

static void heap_report(void *ctx, const slab_cache_t *cache, int error, const void *object)
{
    (void)ctx;
    uintptr_t alloc_site, free_site;
    char by[80] = "", freed[80] = "";
    if (slab_object_sites(cache, object, &alloc_site, &free_site)) {
        char name[64];
        if (alloc_site)
            fmt_snprintf(by, sizeof(by), ", allocated by %s",
                         panic_describe(alloc_site - 1, name, sizeof(name)));
        if (free_site)
            fmt_snprintf(freed, sizeof(freed), ", freed by %s",
                         panic_describe(free_site - 1, name, sizeof(name)));
    }
    heap_error(error, object, "heap: %s: %s: object %p (%llu bytes)%s%s", cache->config.name,
               slab_strerror(error), object, (unsigned long long)cache->config.object_size,
               by, freed);
}

/* ---- public API --------------------------------------------------------------------- */

void heap_init(void)
{
    for (unsigned i = 0; i < HEAP_CLASS_COUNT; i++) {
        slab_config_t config = {
            .name = heap_class_names[i],
            .object_size = (size_t)1 << (HEAP_MIN_SHIFT + i),
            .align = HEAP_ALIGN,
            .slab_bytes = PAGE_SIZE,
            .keep_empty = SLAB_DEFAULT_KEEP_EMPTY,
            .page_alloc = heap_page_alloc,
            .page_free = heap_page_free,
            .report = heap_report,
        };
        int rc = slab_cache_init(&heap_classes[i].cache, &config);
        if (rc)
            panic("heap: cannot set up %s: %s", config.name, slab_strerror(rc));
    }
    heap_ready = true;
    log_info("heap: %u size classes %u-%u bytes in single-page slabs%s", HEAP_CLASS_COUNT,
             1u << HEAP_MIN_SHIFT, HEAP_MAX_SMALL,
             heap_classes[0].cache.debug ? ", SLAB_DEBUG redzones and poison" : "");
}

bool heap_cache_stats(unsigned index, heap_cache_stats_t *out)
{
    if (index >= HEAP_CLASS_COUNT || !heap_ready)
        return false;
    struct heap_class *cls = &heap_classes[index];
    slab_stats_t st;
    uint64_t f = spinlock_lock_irqsave(&cls->lock);
    slab_cache_stats(&cls->cache, &st);
    spinlock_unlock_irqrestore(&cls->lock, f);
    out->name = heap_class_names[index];
    out->object_size = st.object_size;
    out->in_use = st.objects_in_use;
    out->total = (uint64_t)st.slabs * st.objects_per_slab;
    out->bytes = (uint64_t)st.slabs * st.slab_bytes;
    return true;
}

static unsigned class_index(size_t size)
{
    if (size <= (1u << HEAP_MIN_SHIFT))
        return 0;
    unsigned shift = 64u - (unsigned)__builtin_clzll((unsigned long long)size - 1);
    return shift - HEAP_MIN_SHIFT;
}

static void *large_alloc(size_t size, uintptr_t site)
{
    if (size > (PAGE_SIZE << CONFIG_BUDDY_MAX_ORDER) - sizeof(heap_large_t) - HEAP_LARGE_REDZONE)
        return NULL;
    unsigned order = order_for_bytes(size + sizeof(heap_large_t) + HEAP_LARGE_REDZONE);
    uint64_t phys = pmm_alloc_pages(order);
    if (!phys)
        return NULL;
    heap_large_t *header = phys_to_virt(phys);
    *header = (heap_large_t){ .magic = HEAP_LARGE_MAGIC, .order = order, .size = size };
#ifdef SLAB_DEBUG
    header->site = site;
#else
    (void)site;
#endif
    if (HEAP_LARGE_REDZONE) {
        uint8_t *object = (uint8_t *)(header + 1);
        size_t end = (PAGE_SIZE << order) - sizeof(*header);
        memset(object, SLAB_POISON_BYTE, size);
        memset(object + size, SLAB_REDZONE_BYTE, end - size);
    }
    return header + 1;
}

/* Debug: the bytes after a large object up to the end of its block are still redzone. */
static bool large_redzone_intact(const heap_large_t *header)
{
    const uint8_t *object = (const uint8_t *)(header + 1);
    size_t end = (PAGE_SIZE << header->order) - sizeof(*header);
    for (size_t i = header->size; HEAP_LARGE_REDZONE && i < end; i++)
        if (object[i] != SLAB_REDZONE_BYTE)
            return false;
    return true;
}

static void *kmalloc_at(size_t size, uintptr_t site)
{
    if (!heap_ready)
        panic("kmalloc(%llu) before heap_init", (unsigned long long)size);
    if (size > HEAP_MAX_SMALL)
        return large_alloc(size, site);
    struct heap_class *cls = &heap_classes[class_index(size)];
    uint64_t flags = spinlock_lock_irqsave(&cls->lock);
    void *p = slab_alloc_at(&cls->cache, site);
    spinlock_unlock_irqrestore(&cls->lock, flags);
    return p;
}

void *kmalloc(size_t size)
{
    return kmalloc_at(size, (uintptr_t)__builtin_return_address(0));
}

void *kzalloc(size_t size)
{
    void *p = kmalloc_at(size, (uintptr_t)__builtin_return_address(0));
    if (p)
        memset(p, 0, size);
    return p;
}

bool heap_object_containing(const void *addr, const void **object, uintptr_t *alloc_site)
{
    uintptr_t a = (uintptr_t)addr;
    if (!heap_ready || a < VK_BOOT_DIRECT_MAP_BASE || a >= VK_BOOT_KERNEL_BASE)
        return false;
    slab_cache_t *cache = slab_cache_of(addr, PAGE_SIZE);
    for (unsigned i = 0; cache && i < HEAP_CLASS_COUNT; i++)
        if (cache == &heap_classes[i].cache)
            return slab_object_containing(cache, addr, object, alloc_site) && *alloc_site;
    if (cache)
        return false;
#ifdef SLAB_DEBUG
    /* A large block, when addr is in its first page (where its header is). */
    const heap_large_t *header = (const heap_large_t *)(a & ~(uintptr_t)(PAGE_SIZE - 1));
    uintptr_t start = (uintptr_t)(header + 1);
    if (header->magic != HEAP_LARGE_MAGIC || a < start || a - start >= header->size ||
        !header->site)
        return false;
    *object = (const void *)start;
    *alloc_site = header->site;
    return true;
#else
    return false;
#endif
}

void kfree(void *ptr)
{
    uintptr_t site = (uintptr_t)__builtin_return_address(0);
    if (!ptr)
        return;
    uintptr_t addr = (uintptr_t)ptr;
    /* Heap memory always comes through the direct map; don't read headers elsewhere. */
    if (addr < VK_BOOT_DIRECT_MAP_BASE || addr >= VK_BOOT_KERNEL_BASE)
        panic("kfree(%p): not a heap pointer (outside the direct map)", ptr);

    slab_cache_t *cache = slab_cache_of(ptr, PAGE_SIZE);
    if (cache) {
        struct heap_class *cls = NULL;
        for (unsigned i = 0; i < HEAP_CLASS_COUNT; i++)
            if (cache == &heap_classes[i].cache)
                cls = &heap_classes[i];
        if (!cls)
            panic("kfree(%p): object of slab cache %s, not of kmalloc", ptr, cache->config.name);
        uint64_t flags = spinlock_lock_irqsave(&cls->lock);
        slab_free_at(&cls->cache, ptr, site); /* errors go to heap_report */
        spinlock_unlock_irqrestore(&cls->lock, flags);
        return;
    }

    heap_large_t *header = (heap_large_t *)(addr & ~(uintptr_t)(PAGE_SIZE - 1));
    if (addr - (uintptr_t)header != sizeof(*header))
        panic("kfree(%p): not a kmalloc pointer (no slab or large-block header)", ptr);
    char name[64];
    if (header->magic == HEAP_LARGE_FREED) {
        heap_error(SLAB_ERR_DOUBLE_FREE, ptr, "kfree(%p): double free of a large allocation by %s",
                   ptr, panic_describe(site - 1, name, sizeof(name)));
        return;
    }
    if (header->magic != HEAP_LARGE_MAGIC || header->order > CONFIG_BUDDY_MAX_ORDER)
        panic("kfree(%p): not a live kmalloc pointer (header magic 0x%x)", ptr, header->magic);
    if (!large_redzone_intact(header)) {
        /* Reported, then freed anyway: the damage is outside the object. */
        heap_error(SLAB_ERR_REDZONE, ptr,
                   "heap: large block: redzone overwritten (buffer overflow): object %p "
                   "(%llu bytes), freed by %s", ptr, (unsigned long long)header->size,
                   panic_describe(site - 1, name, sizeof(name)));
    }
    unsigned order = header->order;
    header->magic = HEAP_LARGE_FREED;
    pmm_free_pages(virt_to_phys(header), order);
}
