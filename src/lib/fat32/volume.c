/* SPDX-License-Identifier: MIT */
/*
 * FAT32 volume: mount (boot sector checks), FSInfo, the dirty flag, sync and unmount,
 * and the one place sectors reach the device (bounds-checked against the volume).
 *
 * Field offsets are those of the Microsoft FAT specification ("BPB structure", "FAT32
 * FSInfo sector structure"). The BPB is untrusted: every field that sizes a region or is
 * used as a divisor is checked before use, and the checks refuse with a logged reason.
 */
#include <stdarg.h>
#include "lib/fat32/internal.h"
#include "lib/fmt.h"

#define BPB_BYTES_PER_SECTOR  11
#define BPB_SECTORS_PER_CLUS  13
#define BPB_RESERVED_SECTORS  14
#define BPB_FAT_COUNT         16
#define BPB_ROOT_ENTRIES      17
#define BPB_TOTAL_SECTORS16   19
#define BPB_FAT_SIZE16        22
#define BPB_TOTAL_SECTORS32   32
#define BPB_FAT_SIZE32        36
#define BPB_EXT_FLAGS         40
#define BPB_FS_VERSION        42
#define BPB_ROOT_CLUSTER      44
#define BPB_FSINFO_SECTOR     48
#define BPB_SIGNATURE         510
#define EXT_FLAGS_NO_MIRROR   0x80
#define EXT_FLAGS_ACTIVE_MASK 0x0f
#define FSINFO_LEAD_SIG       0x41615252u
#define FSINFO_STRUCT_SIG     0x61417272u
#define FSINFO_TRAIL_SIG      0xaa550000u
#define FSINFO_FREE_COUNT     488
#define FSINFO_NEXT_FREE      492
#define FSINFO_UNKNOWN        0xffffffffu
#define FAT32_MAX_CLUSTERS    0x0ffffff5u /* highest cluster number 0x0ffffff6 */
#define LOG_LINE_MAX          160

void fat32_log(fat32_volume_t *vol, const char *format, ...)
{
    if (!vol->ops.log)
        return;
    char line[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, format);
    fmt_vsnprintf(line, sizeof(line), format, ap);
    va_end(ap);
    vol->ops.log(vol->ops.context, line);
}

static bool range_ok(fat32_volume_t *vol, uint64_t sector, uint32_t count)
{
    return count && sector < vol->ops.sector_count && count <= vol->ops.sector_count - sector;
}

int fat32_dev_read(fat32_volume_t *vol, uint64_t sector, uint32_t count, void *buffer)
{
    if (!range_ok(vol, sector, count)) {
        fat32_log(vol, "fat32: read of sectors %llu+%u beyond the device",
                  (unsigned long long)sector, count);
        return -VK_EIO;
    }
    return vol->ops.read(vol->ops.context, sector, count, buffer) ? -VK_EIO : 0;
}

static int write_sectors(fat32_volume_t *vol, uint64_t sector, uint32_t count, const void *buffer,
                     bool dir)
{
    if (vol->read_only)
        return -VK_EROFS;
    if (!range_ok(vol, sector, count)) {
        fat32_log(vol, "fat32: write of sectors %llu+%u beyond the device",
                  (unsigned long long)sector, count);
        return -VK_EIO;
    }
    if (vol->dir_cached >= sector && vol->dir_cached - sector < count)
        vol->dir_cached = FAT32_NO_SECTOR; /* keep the directory sector cache coherent */
    int (*write)(void *, uint64_t, uint32_t, const void *) =
        dir && vol->ops.write_dir ? vol->ops.write_dir : vol->ops.write;
    return write(vol->ops.context, sector, count, buffer) ? -VK_EIO : 0;
}

int fat32_dev_write(fat32_volume_t *vol, uint64_t sector, uint32_t count, const void *buffer)
{
    return write_sectors(vol, sector, count, buffer, false);
}

int fat32_dev_write_dir(fat32_volume_t *vol, uint64_t sector, uint32_t count,
                        const void *buffer)
{
    return write_sectors(vol, sector, count, buffer, true);
}

bool fat32_cluster_valid(const fat32_volume_t *vol, uint32_t cluster)
{
    return cluster >= 2 && cluster - 2 < vol->cluster_count;
}

uint64_t fat32_cluster_sector(const fat32_volume_t *vol, uint32_t cluster)
{
    return vol->data_start + (uint64_t)(cluster - 2) * vol->sectors_per_cluster;
}

static bool power_of_two(uint32_t v) { return v && !(v & (v - 1)); }

/* The fields that must hold whatever the layout: signature, sizes, FAT32 markers. */
static int check_fields(fat32_volume_t *vol, const uint8_t *bs)
{
    uint32_t bps = fat32_get16(bs + BPB_BYTES_PER_SECTOR), spc = bs[BPB_SECTORS_PER_CLUS];
    if (bs[BPB_SIGNATURE] != 0x55 || bs[BPB_SIGNATURE + 1] != 0xaa)
        return fat32_log(vol, "fat32: no boot signature 55 aa"), -VK_EINVAL;
    if (bps != vol->sector_size)
        return fat32_log(vol, "fat32: bytes per sector %u, device has %u", bps,
                         vol->sector_size), -VK_EINVAL;
    if (!power_of_two(spc) || (uint64_t)spc * bps > 65536)
        return fat32_log(vol, "fat32: bad sectors per cluster %u", spc), -VK_EINVAL;
    if (fat32_get16(bs + BPB_ROOT_ENTRIES) || fat32_get16(bs + BPB_TOTAL_SECTORS16) ||
        fat32_get16(bs + BPB_FAT_SIZE16) || fat32_get32(bs + BPB_FAT_SIZE32) == 0)
        return fat32_log(vol, "fat32: not a FAT32 BPB (FAT12/16 fields set)"), -VK_EINVAL;
    if (fat32_get16(bs + BPB_FS_VERSION) != 0)
        return fat32_log(vol, "fat32: unknown FAT32 version %#x",
                         fat32_get16(bs + BPB_FS_VERSION)), -VK_EINVAL;
    if (fat32_get16(bs + BPB_RESERVED_SECTORS) == 0)
        return fat32_log(vol, "fat32: reserved sector count is 0"), -VK_EINVAL;
    if (bs[BPB_FAT_COUNT] < 1 || bs[BPB_FAT_COUNT] > 2)
        return fat32_log(vol, "fat32: FAT count %u (want 1 or 2)", bs[BPB_FAT_COUNT]),
               -VK_EINVAL;
    return 0;
}

/* The regions: they fit the device, the cluster count is FAT32's, the FAT maps it. */
static int check_layout(fat32_volume_t *vol, const uint8_t *bs)
{
    uint32_t spc = bs[BPB_SECTORS_PER_CLUS], reserved = fat32_get16(bs + BPB_RESERVED_SECTORS);
    uint32_t fats = bs[BPB_FAT_COUNT], fat_size = fat32_get32(bs + BPB_FAT_SIZE32);
    uint64_t total = fat32_get32(bs + BPB_TOTAL_SECTORS32);
    if (total > vol->ops.sector_count)
        return fat32_log(vol, "fat32: %llu sectors but the device has %llu",
                         (unsigned long long)total,
                         (unsigned long long)vol->ops.sector_count), -VK_EINVAL;
    uint64_t data_start = reserved + (uint64_t)fats * fat_size;
    if (data_start >= total)
        return fat32_log(vol, "fat32: FATs end past the volume"), -VK_EINVAL;
    uint64_t clusters = (total - data_start) / spc;
    if (clusters < FAT32_MIN_CLUSTERS || clusters > FAT32_MAX_CLUSTERS)
        return fat32_log(vol, "fat32: %llu clusters is not a FAT32 volume",
                         (unsigned long long)clusters), -VK_EINVAL;
    if ((uint64_t)fat_size * vol->sector_size / 4 < clusters + 2)
        return fat32_log(vol, "fat32: FAT of %u sectors cannot map %llu clusters", fat_size,
                         (unsigned long long)clusters), -VK_EINVAL;
    vol->sectors_per_cluster = spc;
    vol->cluster_size = spc * vol->sector_size;
    vol->fat_start = reserved;
    vol->fat_sectors = fat_size;
    vol->fat_count = fats;
    vol->data_start = data_start;
    vol->cluster_count = (uint32_t)clusters;
    vol->ops.sector_count = total; /* from here on, I/O is bounded by the volume */
    return 0;
}

/* What the BPB points at: the active FAT, the root directory, FSInfo. */
static int check_references(fat32_volume_t *vol, const uint8_t *bs)
{
    uint32_t flags = fat32_get16(bs + BPB_EXT_FLAGS);
    vol->mirror = !(flags & EXT_FLAGS_NO_MIRROR);
    vol->active_fat = flags & EXT_FLAGS_ACTIVE_MASK;
    if (!vol->mirror && vol->active_fat >= vol->fat_count)
        return fat32_log(vol, "fat32: active FAT %u of %u", vol->active_fat,
                         vol->fat_count), -VK_EINVAL;
    vol->root_cluster = fat32_get32(bs + BPB_ROOT_CLUSTER);
    if (!fat32_cluster_valid(vol, vol->root_cluster))
        return fat32_log(vol, "fat32: root cluster %u out of range",
                         vol->root_cluster), -VK_EINVAL;
    uint32_t fsinfo = fat32_get16(bs + BPB_FSINFO_SECTOR);
    vol->fsinfo_sector = (fsinfo && fsinfo < vol->fat_start && fsinfo != 0xffff) ? fsinfo : 0;
    return 0;
}

/* Loads the free count and hint from FSInfo; false when it is absent or implausible. */
static bool read_fsinfo(fat32_volume_t *vol, uint8_t *buf)
{
    vol->next_free = 2;
    if (!vol->fsinfo_sector || fat32_dev_read(vol, vol->fsinfo_sector, 1, buf))
        return false;
    if (fat32_get32(buf) != FSINFO_LEAD_SIG || fat32_get32(buf + 484) != FSINFO_STRUCT_SIG ||
        fat32_get32(buf + 508) != FSINFO_TRAIL_SIG) {
        fat32_log(vol, "fat32: FSInfo signatures missing; ignoring it");
        vol->fsinfo_sector = 0;
        return false;
    }
    uint32_t hint = fat32_get32(buf + FSINFO_NEXT_FREE);
    if (fat32_cluster_valid(vol, hint))
        vol->next_free = hint;
    vol->free_count = fat32_get32(buf + FSINFO_FREE_COUNT);
    return vol->free_count <= vol->cluster_count;
}

static int write_fsinfo(fat32_volume_t *vol)
{
    if (!vol->fsinfo_sector || vol->read_only)
        return 0;
    uint8_t *buf = vol->dir_buffer;
    vol->dir_cached = FAT32_NO_SECTOR;
    int err = fat32_dev_read(vol, vol->fsinfo_sector, 1, buf);
    if (err)
        return err;
    /* 0xFFFFFFFF is the specification's "unknown": the next mount counts if asked. */
    fat32_put32(buf + FSINFO_FREE_COUNT, vol->free_known ? vol->free_count : 0xffffffffu);
    fat32_put32(buf + FSINFO_NEXT_FREE, vol->next_free);
    return fat32_dev_write(vol, vol->fsinfo_sector, 1, buf);
}

/* Sets or clears the "clean shutdown" bit in FAT[1] (every copy, via the FAT cache). */
static int set_clean(fat32_volume_t *vol, bool clean)
{
    uint32_t v;
    int err = fat32_fat_get(vol, 1, &v);
    if (err || vol->read_only)
        return err;
    v = clean ? (v | FAT32_CLEAN_BIT) : (v & ~FAT32_CLEAN_BIT);
    err = fat32_fat_set(vol, 1, v);
    return err ? err : fat32_fat_flush(vol);
}

static int device_flush(fat32_volume_t *vol)
{
    if (vol->read_only || !vol->ops.flush)
        return 0;
    return vol->ops.flush(vol->ops.context) ? -VK_EIO : 0;
}

static void release(fat32_volume_t *vol)
{
    const fat32_ops_t ops = vol->ops;
    if (vol->fat_buffer)
        ops.free(ops.context, vol->fat_buffer);
    if (vol->dir_buffer)
        ops.free(ops.context, vol->dir_buffer);
    ops.free(ops.context, vol);
}

static int open_volume(fat32_volume_t *vol)
{
    int err = fat32_dev_read(vol, 0, 1, vol->dir_buffer);
    if (err)
        return fat32_log(vol, "fat32: cannot read the boot sector"), err;
    if ((err = check_fields(vol, vol->dir_buffer)) || (err = check_layout(vol, vol->dir_buffer)) ||
        (err = check_references(vol, vol->dir_buffer)))
        return err;
    bool fsinfo_ok = read_fsinfo(vol, vol->dir_buffer);
    uint32_t fat1;
    if ((err = fat32_fat_get(vol, 1, &fat1)))
        return err;
    if (fat32_check_start(vol, vol->root_cluster))
        return fat32_log(vol, "fat32: the root directory's cluster is not in use"), -VK_EINVAL;
    vol->was_dirty = !(fat1 & FAT32_CLEAN_BIT);
    if (vol->was_dirty)
        fat32_log(vol, "fat32: volume was not cleanly unmounted");
    /* After an unclean unmount FSInfo's count is only a hint. Recounting means reading
     * the whole FAT (32 MiB on a 32 GiB volume of 4 KiB clusters), so it waits until
     * someone asks (fat32_count_free_clusters), as Linux's vfat does. */
    vol->free_known = fsinfo_ok && !vol->was_dirty;
    if ((err = set_clean(vol, false)))
        return err;
    return device_flush(vol);
}

static bool sector_size_ok(uint32_t size)
{
    return size >= 512 && size <= 4096 && power_of_two(size);
}

int fat32_mount(const fat32_ops_t *ops, fat32_volume_t **out, fat32_info_t *info)
{
    if (!ops || !ops->read || !ops->alloc || !ops->free || !sector_size_ok(ops->sector_size))
        return -VK_EINVAL;
    fat32_volume_t *vol = ops->alloc(ops->context, sizeof(*vol));
    if (!vol)
        return -VK_ENOMEM;
    memset(vol, 0, sizeof(*vol));
    vol->ops = *ops;
    vol->read_only = ops->read_only || !ops->write;
    vol->sector_size = ops->sector_size;
    vol->fat_cached = vol->dir_cached = FAT32_NO_SECTOR;
    vol->fat_buffer = ops->alloc(ops->context, ops->sector_size);
    vol->dir_buffer = ops->alloc(ops->context, ops->sector_size);
    int err = (vol->fat_buffer && vol->dir_buffer) ? open_volume(vol) : -VK_ENOMEM;
    if (err) {
        release(vol);
        return err;
    }
    *out = vol;
    if (info)
        fat32_info(vol, info);
    return 0;
}

int fat32_sync(fat32_volume_t *vol)
{
    if (vol->read_only)
        return 0;
    int err = fat32_fat_flush(vol);
    if (!err)
        err = write_fsinfo(vol);
    if (!err)
        err = device_flush(vol);
    return err;
}

int fat32_unmount(fat32_volume_t *vol)
{
    int err = fat32_sync(vol);
    if (!err)
        err = set_clean(vol, true); /* only after everything else reached the disk */
    if (!err)
        err = device_flush(vol);
    release(vol);
    return err;
}

void fat32_info(fat32_volume_t *vol, fat32_info_t *info)
{
    info->was_dirty = vol->was_dirty;
    info->cluster_count = vol->cluster_count;
    info->cluster_size = vol->cluster_size;
    info->free_clusters = vol->free_known ? vol->free_count : FAT32_FREE_UNKNOWN;
    info->sector_size = vol->sector_size;
}

int fat32_count_free_clusters(fat32_volume_t *vol, uint32_t *out)
{
    int err = vol->free_known ? 0 : fat32_count_free(vol);
    if (!err)
        *out = vol->free_count;
    return err;
}

void fat32_root(fat32_volume_t *vol, fat32_node_t *out)
{
    memset(out, 0, sizeof(*out));
    out->first_cluster = vol->root_cluster;
    out->parent_cluster = vol->root_cluster;
    out->attributes = FAT32_ATTR_DIRECTORY;
}

uint64_t fat32_node_key(const fat32_node_t *node)
{
    if (!node->entry_cluster)
        return 0; /* the root */
    return (uint64_t)node->entry_cluster << 32 | node->entry_offset;
}

bool fat32_is_dir(const fat32_node_t *node)
{
    return node->attributes & FAT32_ATTR_DIRECTORY;
}
