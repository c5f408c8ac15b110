/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk driver (see virtio_blk.h for what it promises).
 *
 * Each in-flight request owns a slot in a page of request slots (header, status byte,
 * completion flag and wait queue): the header and status live in direct-mapped memory,
 * so their physical addresses are plain arithmetic. A counting semaphore hands slots
 * out, and the queue depth is chosen so that depth * (data segments + 2) descriptors
 * always fit in the ring: virtio_queue_add never runs out of descriptors.
 *
 * Locking: vblk_t.lock guards the slot bitmap and each slot's done/written fields; the
 * waiter sleeps with it (sched_wait releases it), the interrupt handler takes it to
 * mark a slot done and wake its waiter. The queue has its own lock inside virtio.
 */
#include "drivers/virtio_blk/virtio_blk.h"
#include "block/block.h"
#include "config.h"
#include "core/log.h"
#include "core/string.h"
#include "mm/mm.h"
#include "sched/sched.h"
#include "time/time.h"
#include <vk/errno.h>

#define VIRTIO_PCI_DEVICE_BLOCK_LEGACY (VIRTIO_PCI_DEVICE_LEGACY_BASE + 1)
#define VIRTIO_PCI_DEVICE_BLOCK_MODERN (VIRTIO_PCI_DEVICE_MODERN_BASE + VIRTIO_ID_BLOCK)

/* Feature bits (§5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX  2
#define VIRTIO_BLK_F_RO       5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH    9
#define VBLK_FEATURES ((1ull << VIRTIO_BLK_F_SIZE_MAX) | (1ull << VIRTIO_BLK_F_SEG_MAX) | \
                       (1ull << VIRTIO_BLK_F_RO) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |      \
                       (1ull << VIRTIO_BLK_F_FLUSH))

/* struct virtio_blk_config (§5.2.4), byte offsets. */
#define VBLK_CONFIG_CAPACITY 0   /* le64, in 512-byte sectors whatever blk_size says */
#define VBLK_CONFIG_SIZE_MAX 8
#define VBLK_CONFIG_SEG_MAX  12
#define VBLK_CONFIG_BLK_SIZE 20

/* Request types and status values (§5.2.6). */
#define VIRTIO_BLK_T_IN     0u
#define VIRTIO_BLK_T_OUT    1u
#define VIRTIO_BLK_T_FLUSH  4u
#define VIRTIO_BLK_T_GET_ID 8u
#define VIRTIO_BLK_S_OK     0u
#define VIRTIO_BLK_S_IOERR  1u
#define VIRTIO_BLK_S_UNSUPP 2u
#define VIRTIO_BLK_ID_BYTES 20u
#define VBLK_SECTOR         512u /* the unit of request sectors and capacity */

/* A request spanning CONFIG_VBLK_MAX_REQUEST_BYTES touches at most this many pages. */
#define VBLK_MAX_SEGMENTS (CONFIG_VBLK_MAX_REQUEST_BYTES / PAGE_SIZE + 1)

typedef struct {
    /* Read by the device. */
    struct {
        uint32_t type;
        uint32_t reserved;
        uint64_t sector;
    } __attribute__((aligned(16))) header;
    /* Written by the device. */
    uint8_t status;
    /* Guarded by vblk_t.lock. */
    bool done;
    uint32_t written;
    sched_wait_queue_t waiter;
} vblk_request_t;

typedef struct {
    virtio_device_t vdev;
    virtio_queue_t queue;
    blockdev_t blk;
    uint64_t capacity;        /* 512-byte sectors */
    uint32_t max_segments;    /* data descriptors per request */
    uint32_t segment_max;     /* bytes per data descriptor */
    uint32_t chunk_bytes;     /* largest single request, a multiple of sector_size */
    bool has_flush;
    unsigned depth;
    vblk_request_t *slots;    /* one direct-mapped page */
    uint64_t slots_phys;
    sched_sem_t slots_free;
    spinlock_t lock;
    /* Guarded by lock. */
    uint32_t slots_busy;      /* bit i: slot i in use */
    unsigned in_flight;       /* slots in use now */
    unsigned peak_in_flight;  /* most slots ever in use at once */
    uint64_t stalls;          /* waits that outlived CONFIG_VBLK_STALL_NS */
} vblk_t;

_Static_assert(CONFIG_VBLK_QUEUE_DEPTH <= 32, "slots_busy is a 32-bit mask");
_Static_assert(CONFIG_VBLK_QUEUE_DEPTH * sizeof(vblk_request_t) <= PAGE_SIZE,
               "request slots fit one page");

static unsigned disk_count;
static const blockdev_ops_t vblk_ops;

/* ---- requests -------------------------------------------------------------------- */

static vblk_request_t *slot_get(vblk_t *v)
{
    sched_sem_down(&v->slots_free);
    uint64_t f = spinlock_lock_irqsave(&v->lock);
    unsigned i = 0;
    while (v->slots_busy & (1u << i))
        i++;
    v->slots_busy |= 1u << i;
    if (++v->in_flight > v->peak_in_flight)
        v->peak_in_flight = v->in_flight;
    spinlock_unlock_irqrestore(&v->lock, f);
    return &v->slots[i];
}

static void slot_put(vblk_t *v, vblk_request_t *r)
{
    uint64_t f = spinlock_lock_irqsave(&v->lock);
    v->slots_busy &= ~(1u << (r - v->slots));
    v->in_flight--;
    spinlock_unlock_irqrestore(&v->lock, f);
    sched_sem_up(&v->slots_free);
}

static uint64_t slot_phys(vblk_t *v, const void *field)
{
    return v->slots_phys + (uint64_t)((const uint8_t *)field - (const uint8_t *)v->slots);
}

/* Physical segments of a kernel buffer (any mapped kernel memory: direct map, heap,
 * guarded stacks), merged where pages are contiguous. Count, or a negative code. */
static int dma_segments(vblk_t *v, const void *buf, uint32_t bytes, bool device_writes,
                        virtio_buffer_t *out)
{
    int n = 0;
    uint64_t virt = (uint64_t)buf;
    while (bytes) {
        uint64_t phys;
        if (!vmm_query(virt, &phys, NULL))
            return -VK_EFAULT;
        uint32_t len = (uint32_t)(PAGE_SIZE - (virt & (PAGE_SIZE - 1)));
        if (len > bytes)
            len = bytes;
        if (n && out[n - 1].phys + out[n - 1].length == phys &&
            out[n - 1].length + len <= v->segment_max) {
            out[n - 1].length += len;
        } else {
            if ((uint32_t)n == v->max_segments)
                return -VK_E2BIG;
            out[n++] = (virtio_buffer_t){ phys, len, device_writes };
        }
        virt += len;
        bytes -= len;
    }
    return n;
}

/* Completions: runs in interrupt context (or from a polling waiter). */
static void vblk_interrupt(virtio_device_t *vd)
{
    vblk_t *v = vd->driver;
    vblk_request_t *r;
    uint32_t written;
    while ((r = virtio_queue_pop(&v->queue, &written))) {
        uint64_t f = spinlock_lock_irqsave(&v->lock);
        r->written = written;
        r->done = true;
        sched_wake_one(&r->waiter);
        spinlock_unlock_irqrestore(&v->lock, f);
    }
}

static void wait_for(vblk_t *v, vblk_request_t *r)
{
    bool polling = v->vdev.irq_mode == VIRTIO_IRQ_POLL;
    uint64_t timeout = polling ? CONFIG_VBLK_POLL_NS : CONFIG_VBLK_STALL_NS;
    uint64_t f = spinlock_lock_irqsave(&v->lock);
    while (!r->done) {
        if (sched_wait_timeout(&r->waiter, &v->lock, timeout) == 0 || r->done)
            continue;
        if (!polling && v->stalls++ == 0)
            log_warn("virtio-blk %s: no completion after %llu ms; polling the queue once "
                     "(lost interrupt?)", v->blk.name,
                     (unsigned long long)(CONFIG_VBLK_STALL_NS / 1000000));
        spinlock_unlock_irqrestore(&v->lock, f);
        virtio_poll(&v->vdev);
        f = spinlock_lock_irqsave(&v->lock);
    }
    spinlock_unlock_irqrestore(&v->lock, f);
}

static const char *type_name(uint32_t type)
{
    switch (type) {
    case VIRTIO_BLK_T_IN: return "read";
    case VIRTIO_BLK_T_OUT: return "write";
    case VIRTIO_BLK_T_FLUSH: return "flush";
    default: return "get-id";
    }
}

/* One device request: header, data (bytes of buf, may be 0), status. */
static int vblk_request(vblk_t *v, uint32_t type, uint64_t sector, const void *buf,
                        uint32_t bytes)
{
    /* Refused here, never sent: beyond the capacity (in 512-byte units). */
    if ((type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT) &&
        (sector > v->capacity || bytes / VBLK_SECTOR > v->capacity - sector ||
         bytes % VBLK_SECTOR))
        return -VK_EINVAL;
    if (type == VIRTIO_BLK_T_OUT && v->blk.read_only)
        return -VK_EROFS;
    virtio_buffer_t chain[VBLK_MAX_SEGMENTS + 2];
    int segs = dma_segments(v, buf, bytes, type != VIRTIO_BLK_T_OUT, chain + 1);
    if (segs < 0)
        return segs;
    vblk_request_t *r = slot_get(v);
    r->header.type = type;
    r->header.reserved = 0;
    r->header.sector = sector;
    r->status = 0xff; /* not a valid status: shows a request the device never touched */
    r->done = false;
    chain[0] = (virtio_buffer_t){ slot_phys(v, &r->header), sizeof(r->header), false };
    chain[segs + 1] = (virtio_buffer_t){ slot_phys(v, &r->status), 1, true };
    int err = virtio_queue_add(&v->queue, chain, (unsigned)segs + 2, r);
    if (err) {
        /* Impossible by the depth calculation; say so loudly if it happens. */
        log_error("virtio-blk %s: queue refused a request (%d)", v->blk.name, err);
        slot_put(v, r);
        return -VK_EIO;
    }
    virtio_queue_kick(&v->queue);
    wait_for(v, r);
    uint8_t status = __atomic_load_n(&r->status, __ATOMIC_ACQUIRE);
    slot_put(v, r);
    if (status == VIRTIO_BLK_S_OK)
        return 0;
    if (type != VIRTIO_BLK_T_GET_ID || status != VIRTIO_BLK_S_UNSUPP)
        log_warn("virtio-blk %s: %s at sector %llu (%u bytes) failed: status %u (%s)",
                 v->blk.name, type_name(type), (unsigned long long)sector, bytes, status,
                 status == VIRTIO_BLK_S_IOERR ? "I/O error" :
                 status == VIRTIO_BLK_S_UNSUPP ? "unsupported" : "invalid status");
    return -VK_EIO;
}

/* Reads or writes count sectors in chunks of at most chunk_bytes. */
static int vblk_transfer(blockdev_t *b, uint32_t type, uint64_t sector, uint32_t count,
                         const void *buf)
{
    vblk_t *v = b->driver_data;
    uint32_t per = b->sector_size / VBLK_SECTOR;
    uint32_t chunk = v->chunk_bytes / b->sector_size;
    if (sector > b->sector_count || count > b->sector_count - sector)
        return -VK_EINVAL;
    const uint8_t *p = buf;
    while (count) {
        uint32_t n = count < chunk ? count : chunk;
        int err = vblk_request(v, type, sector * per, p, n * b->sector_size);
        if (err)
            return err;
        sector += n;
        count -= n;
        p += (uint64_t)n * b->sector_size;
    }
    return 0;
}

static int vblk_read(blockdev_t *b, uint64_t sector, uint32_t count, void *buf)
{
    return vblk_transfer(b, VIRTIO_BLK_T_IN, sector, count, buf);
}

static int vblk_write(blockdev_t *b, uint64_t sector, uint32_t count, const void *buf)
{
    if (b->read_only)
        return -VK_EROFS;
    return vblk_transfer(b, VIRTIO_BLK_T_OUT, sector, count, buf);
}

static int vblk_flush(blockdev_t *b)
{
    vblk_t *v = b->driver_data;
    /* Without VIRTIO_BLK_F_FLUSH the device offers no flush: nothing to do. */
    return v->has_flush ? vblk_request(v, VIRTIO_BLK_T_FLUSH, 0, NULL, 0) : 0;
}

static const blockdev_ops_t vblk_ops = {
    .read = vblk_read,
    .write = vblk_write,
    .flush = vblk_flush,
};

/* ---- probing --------------------------------------------------------------------- */

static void read_serial(vblk_t *v)
{
    uint8_t id[VIRTIO_BLK_ID_BYTES];
    memset(id, 0, sizeof(id));
    if (vblk_request(v, VIRTIO_BLK_T_GET_ID, 0, id, sizeof(id)) < 0)
        return; /* optional: older devices answer UNSUPP */
    /* Up to 20 bytes, NUL-terminated only when shorter; keep printable ASCII. */
    unsigned n = 0;
    while (n < VIRTIO_BLK_ID_BYTES && id[n] && n + 1 < sizeof(v->blk.serial)) {
        v->blk.serial[n] = (id[n] >= 0x20 && id[n] < 0x7f) ? (char)id[n] : '?';
        n++;
    }
    v->blk.serial[n] = '\0';
}

/* Geometry and limits from the device configuration (§5.2.4, §5.2.5). */
static void read_config(vblk_t *v)
{
    virtio_device_t *vd = &v->vdev;
    v->capacity = virtio_config_read64(vd, VBLK_CONFIG_CAPACITY);
    uint32_t sector_size = VBLK_SECTOR;
    if (virtio_has_feature(vd, VIRTIO_BLK_F_BLK_SIZE)) {
        uint32_t bs = virtio_config_read32(vd, VBLK_CONFIG_BLK_SIZE);
        if (bs >= VBLK_SECTOR && bs <= PAGE_SIZE && (bs & (bs - 1)) == 0)
            sector_size = bs;
    }
    v->blk.sector_size = sector_size;
    v->blk.sector_count = v->capacity / (sector_size / VBLK_SECTOR);
    v->blk.read_only = virtio_has_feature(vd, VIRTIO_BLK_F_RO);
    v->has_flush = virtio_has_feature(vd, VIRTIO_BLK_F_FLUSH);
    v->max_segments = VBLK_MAX_SEGMENTS;
    if (virtio_has_feature(vd, VIRTIO_BLK_F_SEG_MAX)) {
        uint32_t seg_max = virtio_config_read32(vd, VBLK_CONFIG_SEG_MAX);
        if (seg_max && seg_max < v->max_segments)
            v->max_segments = seg_max;
    }
    v->segment_max = UINT32_MAX;
    if (virtio_has_feature(vd, VIRTIO_BLK_F_SIZE_MAX)) {
        uint32_t size_max = virtio_config_read32(vd, VBLK_CONFIG_SIZE_MAX);
        if (size_max >= PAGE_SIZE)
            v->segment_max = size_max;
    }
}

/* The largest request: chunk_bytes needs at most max_segments pages, whatever the
 * buffer's offset in its first page. */
static void set_chunk(vblk_t *v)
{
    uint32_t ss = v->blk.sector_size;
    uint32_t chunk = v->max_segments > 1 ? (v->max_segments - 1) * (uint32_t)PAGE_SIZE : ss;
    if (chunk > CONFIG_VBLK_MAX_REQUEST_BYTES)
        chunk = CONFIG_VBLK_MAX_REQUEST_BYTES;
    v->chunk_bytes = chunk < ss ? ss : chunk / ss * ss;
}

static int vblk_probe(const pci_device_t *pci)
{
    if (disk_count == 26) {
        log_warn("virtio-blk: more than 26 disks (vda..vdz); the rest are ignored");
        return -VK_ENOSPC;
    }
    vblk_t *v = kzalloc(sizeof(*v));
    if (!v)
        return -VK_ENOMEM;
    virtio_device_t *vd = &v->vdev;
    vd->driver = v;
    int err = virtio_pci_init(vd, pci);
    if (err)
        goto free_state;
    err = virtio_negotiate(vd, VBLK_FEATURES);
    if (err) {
        virtio_fail(vd, "feature negotiation refused");
        goto free_state;
    }
    virtio_irq_setup(vd, vblk_interrupt);
    read_config(v);
    err = virtio_queue_setup(vd, &v->queue, 0, CONFIG_VIRTIO_QUEUE_SIZE_MAX);
    if (err) {
        virtio_fail(vd, "request queue set-up failed");
        goto free_state;
    }
    /* Depth so that every slot's chain always finds its descriptors. */
    if (v->max_segments + 2 > v->queue.size)
        v->max_segments = v->queue.size > 3 ? v->queue.size - 2u : 1u;
    set_chunk(v);
    v->depth = v->queue.size / (v->max_segments + 2);
    if (v->depth > CONFIG_VBLK_QUEUE_DEPTH)
        v->depth = CONFIG_VBLK_QUEUE_DEPTH;
    if (v->depth == 0)
        v->depth = 1;
    v->slots_phys = pmm_alloc_pages(0);
    if (!v->slots_phys) {
        err = -VK_ENOMEM;
        virtio_fail(vd, "out of memory for request slots");
        goto free_queue;
    }
    v->slots = phys_to_virt(v->slots_phys);
    memset(v->slots, 0, PAGE_SIZE);
    for (unsigned i = 0; i < v->depth; i++)
        sched_wait_queue_init(&v->slots[i].waiter); /* a lock class for lockdep */
    sched_sem_init(&v->slots_free, v->depth);
    virtio_driver_ok(vd);

    v->blk.name[0] = 'v';
    v->blk.name[1] = 'd';
    v->blk.name[2] = (char)('a' + disk_count);
    v->blk.name[3] = '\0';
    v->blk.ops = &vblk_ops;
    v->blk.driver_data = v;
    strlcpy(v->blk.driver_name, "virtio-blk", sizeof(v->blk.driver_name));
    read_serial(v);

    char size[24];
    blockdev_format_size(v->capacity * VBLK_SECTOR, size, sizeof(size));
    log_info("virtio-blk %s: %s %s, %u-byte sectors, %s, serial \"%s\", %s, %u in flight%s%s",
             vd->location, v->blk.name, size, v->blk.sector_size,
             virtio_irq_mode_name(vd->irq_mode), v->blk.serial, vd->modern ? "modern" : "legacy",
             v->depth, v->has_flush ? ", flush" : "", v->blk.read_only ? ", read-only" : "");
    err = blockdev_add_disk(&v->blk);
    if (err) {
        /* The device works but nobody can reach it: stop it. */
        virtio_fail(vd, "block device registration failed");
        goto free_slots;
    }
    disk_count++;
    return 0;

free_slots:
    pmm_free_pages(v->slots_phys, 0);
free_queue:
    virtio_queue_free(&v->queue);
free_state:
    kfree(v);
    return err;
}

unsigned vblk_init(void)
{
    unsigned found = 0;
    for (unsigned i = 0; i < pci_device_count(); i++) {
        const pci_device_t *d = pci_device_get(i);
        if (d->vendor_id != VIRTIO_PCI_VENDOR || (d->device_id != VIRTIO_PCI_DEVICE_BLOCK_LEGACY &&
                                                  d->device_id != VIRTIO_PCI_DEVICE_BLOCK_MODERN))
            continue;
        if (vblk_probe(d) == 0)
            found++;
    }
    return found;
}

bool vblk_owns(const blockdev_t *dev)
{
    return dev && dev->ops == &vblk_ops;
}

virtio_irq_mode_t vblk_irq_mode(const blockdev_t *dev)
{
    return vblk_owns(dev) ? ((const vblk_t *)dev->driver_data)->vdev.irq_mode : VIRTIO_IRQ_POLL;
}

bool vblk_is_modern(const blockdev_t *dev)
{
    return vblk_owns(dev) && ((const vblk_t *)dev->driver_data)->vdev.modern;
}

uint64_t vblk_requests_submitted(const blockdev_t *dev)
{
    if (!vblk_owns(dev))
        return 0;
    virtio_queue_t *q = &((vblk_t *)dev->driver_data)->queue;
    uint64_t f = spinlock_lock_irqsave(&q->lock);
    uint64_t n = q->submitted;
    spinlock_unlock_irqrestore(&q->lock, f);
    return n;
}

unsigned vblk_peak_in_flight(const blockdev_t *dev)
{
    if (!vblk_owns(dev))
        return 0;
    vblk_t *v = dev->driver_data;
    uint64_t f = spinlock_lock_irqsave(&v->lock);
    unsigned n = v->peak_in_flight;
    spinlock_unlock_irqrestore(&v->lock, f);
    return n;
}
