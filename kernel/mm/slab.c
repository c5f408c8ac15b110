/* SPDX-License-Identifier: MIT */
/*
 * Slab caches (see slab.h for the design). Pure logic: no kernel headers, no locks.
 *
 * Slab layout (slab_bytes, aligned to slab_bytes):
 *
 *   | struct slab | link[objects_per_slab] | pad | slot 0 | slot 1 | ... | unused |
 *   slot = [sites][left redzone][object_size bytes][right redzone + padding]   (debug)
 *   slot = [object_size bytes][padding to align]                        (normal)
 *
 * sites = the allocating and freeing return addresses (SLAB_SITE_BYTES).
 *
 * link[i] is the next free slot after i, SLAB_LINK_END, SLAB_LINK_ALLOCATED while the
 * object is handed out, or SLAB_LINK_QUARANTINED while a freed object waits in the
 * debug quarantine (it still counts in its slab's in_use). Free lists are LIFO.
 */
#include "slab.h"

#define SLAB_MAGIC          0x42414c53u /* "SLAB" in memory */
#define SLAB_LINK_END       0xffffu
#define SLAB_LINK_ALLOCATED 0xfffeu
#define SLAB_LINK_QUARANTINED 0xfffdu

enum { LIST_EMPTY, LIST_PARTIAL, LIST_FULL };

struct slab {
    uint32_t magic;           /* SLAB_MAGIC while the slab belongs to a cache */
    uint16_t in_use;          /* allocated + quarantined slots */
    uint16_t quarantined;     /* slots waiting in the cache's quarantine */
    uint16_t free_head;       /* first free slot or SLAB_LINK_END */
    uint8_t list;             /* LIST_* the slab is on */
    slab_cache_t *cache;
    struct slab *prev, *next;
    uint16_t link[];
};

/* ---- helpers ------------------------------------------------------------------------ */

static inline size_t round_up(size_t v, size_t align) { return (v + align - 1) & ~(align - 1); }
static inline bool is_pow2(size_t v) { return v && (v & (v - 1)) == 0; }

static struct slab *slab_of(const slab_cache_t *c, const void *object)
{
    return (struct slab *)((uintptr_t)object & ~(uintptr_t)(c->config.slab_bytes - 1));
}

static uint8_t *slot_at(const slab_cache_t *c, struct slab *s, unsigned idx)
{
    return (uint8_t *)s + c->first_slot + (size_t)idx * c->slot_size;
}

static void report(slab_cache_t *c, int error, const void *object)
{
    c->errors++;
    if (c->config.report)
        c->config.report(c->config.report_ctx, c, error, object);
}

static void fill(uint8_t *p, uint8_t value, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = value;
}

static bool all_bytes(const uint8_t *p, uint8_t value, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != value)
            return false;
    return true;
}

static void fill_redzones(const slab_cache_t *c, uint8_t *slot)
{
    size_t right = c->object_offset + c->config.object_size;
    fill(slot + SLAB_SITE_BYTES, SLAB_REDZONE_BYTE, c->object_offset - SLAB_SITE_BYTES);
    fill(slot + right, SLAB_REDZONE_BYTE, c->slot_size - right);
}

static bool redzones_intact(const slab_cache_t *c, const uint8_t *slot)
{
    size_t right = c->object_offset + c->config.object_size;
    return all_bytes(slot + SLAB_SITE_BYTES, SLAB_REDZONE_BYTE,
                     c->object_offset - SLAB_SITE_BYTES) &&
           all_bytes(slot + right, SLAB_REDZONE_BYTE, c->slot_size - right);
}

/* Sites are byte-copied: slots need only the cache's alignment, which may be below 8. */
static void set_site(uint8_t *slot, unsigned which, uintptr_t site)
{
    for (unsigned i = 0; i < sizeof(site); i++)
        slot[which * sizeof(site) + i] = (uint8_t)(site >> (8 * i));
}

static uintptr_t get_site(const uint8_t *slot, unsigned which)
{
    uintptr_t site = 0;
    for (unsigned i = 0; i < sizeof(site); i++)
        site |= (uintptr_t)slot[which * sizeof(site) + i] << (8 * i);
    return site;
}

/* ---- slab lists --------------------------------------------------------------------- */

static struct slab **list_head(slab_cache_t *c, unsigned list, size_t **count)
{
    switch (list) {
    case LIST_EMPTY: *count = &c->slabs_empty; return &c->empty;
    case LIST_PARTIAL: *count = &c->slabs_partial; return &c->partial;
    default: *count = &c->slabs_full; return &c->full;
    }
}

static void list_unlink(slab_cache_t *c, struct slab *s)
{
    size_t *count;
    struct slab **head = list_head(c, s->list, &count);
    if (s->prev)
        s->prev->next = s->next;
    else
        *head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    (*count)--;
}

static void list_insert(slab_cache_t *c, struct slab *s, unsigned list)
{
    size_t *count;
    struct slab **head = list_head(c, list, &count);
    s->list = (uint8_t)list;
    s->prev = NULL;
    s->next = *head;
    if (*head)
        (*head)->prev = s;
    *head = s;
    (*count)++;
}

static void list_move(slab_cache_t *c, struct slab *s, unsigned list)
{
    if (s->list == list)
        return;
    list_unlink(c, s);
    list_insert(c, s, list);
}

/* ---- slab creation and release ------------------------------------------------------ */

static struct slab *slab_create(slab_cache_t *c)
{
    size_t bytes = c->config.slab_bytes;
    struct slab *s = c->config.page_alloc(c->config.page_ctx, bytes);
    if (!s)
        return NULL;
    if ((uintptr_t)s & (bytes - 1)) {
        /* Provider broke its contract; slab_of() would never find this header. */
        c->config.page_free(c->config.page_ctx, s, bytes);
        report(c, SLAB_ERR_CORRUPT, s);
        return NULL;
    }
    s->magic = SLAB_MAGIC;
    s->in_use = 0;
    s->quarantined = 0;
    s->cache = c;
    s->free_head = 0;
    for (unsigned i = 0; i < c->objects_per_slab; i++) {
        s->link[i] = (uint16_t)(i + 1 < c->objects_per_slab ? i + 1 : SLAB_LINK_END);
        if (c->debug) {
            uint8_t *slot = slot_at(c, s, i);
            fill(slot, 0, SLAB_SITE_BYTES);
            fill_redzones(c, slot);
            fill(slot + c->object_offset, SLAB_POISON_BYTE, c->config.object_size);
        }
    }
    list_insert(c, s, LIST_EMPTY);
    return s;
}

static void slab_release(slab_cache_t *c, struct slab *s)
{
    list_unlink(c, s);
    s->magic = 0; /* stale pointers into these pages no longer look like objects */
    c->config.page_free(c->config.page_ctx, s, c->config.slab_bytes);
}

/* ---- public API --------------------------------------------------------------------- */

int slab_cache_init(slab_cache_t *c, const slab_config_t *config)
{
    *c = (slab_cache_t){ .config = *config };
    size_t align = config->align ? config->align : SLAB_DEFAULT_ALIGN;
    size_t bytes = config->slab_bytes;
    if (!config->page_alloc || !config->page_free || config->object_size == 0 ||
        !is_pow2(align) || !is_pow2(bytes) || bytes < SLAB_PAGE_SIZE || align > bytes ||
        config->object_size > bytes)
        return -SLAB_ERR_INVALID;
    c->config.align = align;
    c->config.name = config->name ? config->name : "(unnamed)";
#ifdef SLAB_DEBUG
    c->debug = true;
#else
    c->debug = (config->flags & SLAB_FLAG_DEBUG) != 0;
#endif

    if (c->debug) {
        c->object_offset = round_up(SLAB_SITE_BYTES + SLAB_REDZONE_BYTES, align);
        c->slot_size = c->object_offset + round_up(config->object_size + SLAB_REDZONE_BYTES, align);
    } else {
        c->object_offset = 0;
        c->slot_size = round_up(config->object_size, align);
    }

    /* Largest n with header + n links, rounded to the alignment, plus n slots fitting. */
    size_t header = sizeof(struct slab);
    if (bytes < header + sizeof(uint16_t) + c->slot_size)
        return -SLAB_ERR_INVALID;
    size_t n = (bytes - header) / (c->slot_size + sizeof(uint16_t));
    while (n && round_up(header + n * sizeof(uint16_t), align) + n * c->slot_size > bytes)
        n--;
    if (n > SLAB_MAX_OBJECTS)
        n = SLAB_MAX_OBJECTS;
    if (n == 0)
        return -SLAB_ERR_INVALID;
    c->objects_per_slab = (unsigned)n;
    c->first_slot = round_up(header + n * sizeof(uint16_t), align);
    return 0;
}

void *slab_alloc(slab_cache_t *c)
{
    return slab_alloc_at(c, 0);
}

void *slab_alloc_at(slab_cache_t *c, uintptr_t site)
{
    struct slab *s = c->partial ? c->partial : c->empty;
    if (!s && !(s = slab_create(c)))
        return NULL;

    unsigned idx = s->free_head;
    if (idx >= c->objects_per_slab || s->link[idx] == SLAB_LINK_ALLOCATED ||
        s->link[idx] == SLAB_LINK_QUARANTINED) {
        report(c, SLAB_ERR_CORRUPT, s); /* header overwritten (underflow of slot 0?) */
        return NULL;
    }
    s->free_head = s->link[idx];
    s->link[idx] = SLAB_LINK_ALLOCATED;
    s->in_use++;
    list_move(c, s, s->in_use == c->objects_per_slab ? LIST_FULL : LIST_PARTIAL);
    c->objects_in_use++;
    c->allocs++;

    uint8_t *slot = slot_at(c, s, idx);
    uint8_t *object = slot + c->object_offset;
    if (c->debug) {
        /* Report, then hand the object out anyway: the damage is already done. */
        if (!all_bytes(object, SLAB_POISON_BYTE, c->config.object_size))
            report(c, SLAB_ERR_USE_AFTER_FREE, object);
        if (!redzones_intact(c, slot)) {
            report(c, SLAB_ERR_REDZONE, object);
            fill_redzones(c, slot);
        }
        set_site(slot, 0, site);
        set_site(slot, 1, 0);
    }
    return object;
}

/* Put slot idx back on its slab's free list; the slab may go back to the provider. */
static void release_slot(slab_cache_t *c, struct slab *s, unsigned idx)
{
    s->link[idx] = s->free_head;
    s->free_head = (uint16_t)idx;
    s->in_use--;
    if (s->in_use == 0) {
        list_move(c, s, LIST_EMPTY);
        if (c->slabs_empty > c->config.keep_empty)
            slab_release(c, s);
    } else {
        list_move(c, s, LIST_PARTIAL);
    }
}

static unsigned slot_index(const slab_cache_t *c, const struct slab *s, const void *object)
{
    return (unsigned)(((uintptr_t)object - (uintptr_t)s - c->first_slot - c->object_offset) /
                      c->slot_size);
}

/* A quarantined object leaves: its poison and redzones must be as it left them. */
static void quarantine_check_release(slab_cache_t *c, uint8_t *object)
{
    struct slab *s = slab_of(c, object);
    uint8_t *slot = object - c->object_offset;
    if (!all_bytes(object, SLAB_POISON_BYTE, c->config.object_size)) {
        report(c, SLAB_ERR_USE_AFTER_FREE, object);
        fill(object, SLAB_POISON_BYTE, c->config.object_size);
    }
    if (!redzones_intact(c, slot)) {
        report(c, SLAB_ERR_REDZONE, object);
        fill_redzones(c, slot);
    }
    s->quarantined--;
    release_slot(c, s, slot_index(c, s, object));
}

static void quarantine_release_oldest(slab_cache_t *c)
{
    uint8_t *object = c->quarantine[c->quarantine_head];
    c->quarantine_head = (c->quarantine_head + 1) % SLAB_QUARANTINE_SLOTS;
    c->quarantine_count--;
    c->quarantine_bytes -= c->config.object_size;
    quarantine_check_release(c, object);
}

/* Every object of slab s leaves the quarantine (checked); the ring closes the gaps. */
static void quarantine_release_slab(slab_cache_t *c, struct slab *s)
{
    unsigned kept = 0, count = c->quarantine_count;
    for (unsigned i = 0; i < count; i++) {
        uint8_t *object = c->quarantine[(c->quarantine_head + i) % SLAB_QUARANTINE_SLOTS];
        if (slab_of(c, object) == s) {
            quarantine_check_release(c, object); /* the last one may release s */
            continue;
        }
        c->quarantine[(c->quarantine_head + kept) % SLAB_QUARANTINE_SLOTS] = object;
        kept++;
    }
    c->quarantine_count = kept;
    c->quarantine_bytes = kept * c->config.object_size;
}

static void quarantine_add(slab_cache_t *c, struct slab *s, unsigned idx, void *object)
{
    while (c->quarantine_count &&
           (c->quarantine_count == SLAB_QUARANTINE_SLOTS ||
            c->quarantine_bytes + c->config.object_size > SLAB_QUARANTINE_BYTES))
        quarantine_release_oldest(c);
    s->link[idx] = SLAB_LINK_QUARANTINED;
    s->quarantined++;
    unsigned tail = (c->quarantine_head + c->quarantine_count) % SLAB_QUARANTINE_SLOTS;
    c->quarantine[tail] = object;
    c->quarantine_count++;
    c->quarantine_bytes += c->config.object_size;
    /* No live object left in s: it leaves the quarantine whole, so the quarantine never
     * keeps pages from the provider that the normal build would have given back (memory
     * figures and the tests that compare them stay the same in both builds). */
    if (s->quarantined == s->in_use)
        quarantine_release_slab(c, s);
}

size_t slab_quarantine_flush(slab_cache_t *c)
{
    size_t n = c->quarantine_count;
    while (c->quarantine_count)
        quarantine_release_oldest(c);
    return n;
}

bool slab_object_sites(const slab_cache_t *c, const void *object, uintptr_t *alloc_site,
                       uintptr_t *free_site)
{
    const struct slab *s = slab_of(c, object);
    uintptr_t start = (uintptr_t)s + c->first_slot + c->object_offset;
    uintptr_t addr = (uintptr_t)object;
    if (!c->debug || !object || s->magic != SLAB_MAGIC || s->cache != c || addr < start ||
        (addr - start) % c->slot_size || (addr - start) / c->slot_size >= c->objects_per_slab)
        return false;
    const uint8_t *slot = (const uint8_t *)object - c->object_offset;
    *alloc_site = get_site(slot, 0);
    *free_site = get_site(slot, 1);
    return true;
}

bool slab_object_containing(const slab_cache_t *c, const void *addr, const void **object,
                            uintptr_t *alloc_site)
{
    const struct slab *s = slab_of(c, addr);
    uintptr_t start = (uintptr_t)s + c->first_slot + c->object_offset;
    uintptr_t a = (uintptr_t)addr;
    if (!c->debug || s->magic != SLAB_MAGIC || s->cache != c || a < start)
        return false;
    size_t index = (a - start) / c->slot_size;
    if (index >= c->objects_per_slab || (a - start) % c->slot_size >= c->config.object_size)
        return false;
    const uint8_t *slot = (const uint8_t *)start - c->object_offset + index * c->slot_size;
    *object = slot + c->object_offset;
    *alloc_site = get_site(slot, 0);
    return true;
}

int slab_free(slab_cache_t *c, void *object)
{
    return slab_free_at(c, object, 0);
}

int slab_free_at(slab_cache_t *c, void *object, uintptr_t site)
{
    struct slab *s = slab_of(c, object);
    uintptr_t start = (uintptr_t)s + c->first_slot + c->object_offset;
    uintptr_t addr = (uintptr_t)object;
    if (!object || s->magic != SLAB_MAGIC || s->cache != c || addr < start ||
        (addr - start) % c->slot_size || (addr - start) / c->slot_size >= c->objects_per_slab) {
        report(c, SLAB_ERR_BAD_POINTER, object);
        return -SLAB_ERR_BAD_POINTER;
    }
    unsigned idx = (unsigned)((addr - start) / c->slot_size);
    if (s->link[idx] != SLAB_LINK_ALLOCATED) {
        /* Free, or still in the quarantine: either way freed before. */
        report(c, SLAB_ERR_DOUBLE_FREE, object);
        return -SLAB_ERR_DOUBLE_FREE;
    }

    int rc = 0;
    if (c->debug) {
        uint8_t *slot = slot_at(c, s, idx);
        if (!redzones_intact(c, slot)) {
            report(c, SLAB_ERR_REDZONE, object);
            fill_redzones(c, slot);
            rc = -SLAB_ERR_REDZONE;
        }
        fill(object, SLAB_POISON_BYTE, c->config.object_size);
        set_site(slot, 1, site);
    }

    c->objects_in_use--;
    c->frees++;
    if (c->debug)
        quarantine_add(c, s, idx, object);
    else
        release_slot(c, s, idx);
    return rc;
}

slab_cache_t *slab_cache_of(const void *object, size_t slab_bytes)
{
    if (!object || !is_pow2(slab_bytes))
        return NULL;
    const struct slab *s =
        (const struct slab *)((uintptr_t)object & ~(uintptr_t)(slab_bytes - 1));
    if (s->magic != SLAB_MAGIC || !s->cache || s->cache->config.slab_bytes != slab_bytes)
        return NULL;
    return s->cache;
}

void slab_cache_stats(const slab_cache_t *c, slab_stats_t *st)
{
    size_t slabs = c->slabs_partial + c->slabs_full + c->slabs_empty;
    *st = (slab_stats_t){
        .name = c->config.name,
        .object_size = c->config.object_size,
        .slot_size = c->slot_size,
        .slab_bytes = c->config.slab_bytes,
        .objects_per_slab = c->objects_per_slab,
        .objects_in_use = c->objects_in_use,
        .slabs = slabs,
        .slabs_partial = c->slabs_partial,
        .slabs_full = c->slabs_full,
        .slabs_empty = c->slabs_empty,
        .pages = slabs * (c->config.slab_bytes / SLAB_PAGE_SIZE),
        .allocs = c->allocs,
        .frees = c->frees,
        .errors = c->errors,
    };
}

/* Verify one slab; returns the number of problems reported. */
static size_t verify_slab(slab_cache_t *c, struct slab *s, unsigned list)
{
    if (s->magic != SLAB_MAGIC || s->cache != c || s->list != list) {
        report(c, SLAB_ERR_CORRUPT, s);
        return 1; /* the rest of the header cannot be trusted */
    }
    size_t problems = 0, allocated = 0, free_walk = 0;
    for (unsigned i = 0; i < c->objects_per_slab; i++)
        allocated += s->link[i] == SLAB_LINK_ALLOCATED || s->link[i] == SLAB_LINK_QUARANTINED;
    /* A walk that reaches the end in exactly (capacity - in_use) steps has no cycle. */
    unsigned idx = s->free_head;
    while (idx != SLAB_LINK_END && free_walk <= c->objects_per_slab) {
        if (idx >= c->objects_per_slab || s->link[idx] == SLAB_LINK_ALLOCATED ||
            s->link[idx] == SLAB_LINK_QUARANTINED)
            break;
        free_walk++;
        idx = s->link[idx];
    }
    bool list_ok = list == LIST_EMPTY ? s->in_use == 0
                 : list == LIST_FULL ? s->in_use == c->objects_per_slab
                                     : s->in_use > 0 && s->in_use < c->objects_per_slab;
    if (allocated != s->in_use || idx != SLAB_LINK_END ||
        free_walk != c->objects_per_slab - s->in_use || !list_ok) {
        report(c, SLAB_ERR_CORRUPT, s);
        problems++;
    }
    if (!c->debug)
        return problems;
    for (unsigned i = 0; i < c->objects_per_slab; i++) {
        uint8_t *slot = slot_at(c, s, i);
        uint8_t *object = slot + c->object_offset;
        if (!redzones_intact(c, slot)) {
            report(c, SLAB_ERR_REDZONE, object);
            problems++;
        }
        if (s->link[i] != SLAB_LINK_ALLOCATED &&
            !all_bytes(object, SLAB_POISON_BYTE, c->config.object_size)) {
            report(c, SLAB_ERR_USE_AFTER_FREE, object);
            problems++;
        }
    }
    return problems;
}

size_t slab_cache_verify(slab_cache_t *c)
{
    size_t problems = 0, in_use = 0;
    for (unsigned list = LIST_EMPTY; list <= LIST_FULL; list++) {
        size_t *count, n = 0;
        struct slab *prev = NULL;
        for (struct slab *s = *list_head(c, list, &count); s; prev = s, s = s->next) {
            if (s->prev != prev || ++n > *count) {
                report(c, SLAB_ERR_CORRUPT, s);
                return problems + 1; /* the list itself is broken: stop walking */
            }
            problems += verify_slab(c, s, list);
            in_use += s->in_use;
        }
        if (n != *count) {
            report(c, SLAB_ERR_CORRUPT, NULL);
            problems++;
        }
    }
    if (in_use != c->objects_in_use + c->quarantine_count) {
        report(c, SLAB_ERR_CORRUPT, NULL);
        problems++;
    }
    return problems;
}

size_t slab_cache_shrink(slab_cache_t *c)
{
    slab_quarantine_flush(c);
    size_t n = 0;
    while (c->empty) {
        slab_release(c, c->empty);
        n++;
    }
    return n;
}

int slab_cache_destroy(slab_cache_t *c)
{
    if (c->objects_in_use)
        return -SLAB_ERR_BUSY;
    slab_cache_shrink(c);
    return 0;
}

const char *slab_strerror(int error)
{
    switch (error < 0 ? -error : error) {
    case 0: return "success";
    case SLAB_ERR_REDZONE: return "redzone overwritten (buffer overflow)";
    case SLAB_ERR_USE_AFTER_FREE: return "free object modified (use after free)";
    case SLAB_ERR_DOUBLE_FREE: return "double free";
    case SLAB_ERR_BAD_POINTER: return "not an object of this cache";
    case SLAB_ERR_CORRUPT: return "slab metadata corrupt";
    case SLAB_ERR_INVALID: return "invalid cache configuration";
    case SLAB_ERR_BUSY: return "objects still allocated";
    default: return "unknown error";
    }
}
