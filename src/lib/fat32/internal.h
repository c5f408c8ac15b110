/* SPDX-License-Identifier: MIT */
/*
 * FAT32 library internals shared by its files; not for callers (they use fat32.h).
 *
 * Files: volume.c (mount, BPB checks, FSInfo, sector I/O), fat.c (the allocation table:
 * one cached sector, chain walks, allocation), name.c (UTF-8/UTF-16, name rules, short
 * names), dir.c (directory entries: iterate, find, insert, delete), file.c (read, write,
 * truncate, stat), ops.c (create, unlink, rmdir, rename, readdir, walk).
 */
#ifndef SRC_LIB_FAT32_INTERNAL_H
#define SRC_LIB_FAT32_INTERNAL_H

#include "lib/fat32/fat32.h"
#include "vk/errno.h"

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#define FAT32_ENTRY_SIZE      32
#define FAT32_DIR_ENTRIES_MAX 65536     /* FAT spec: a directory is at most 2 MiB */
#define FAT32_LFN_SLOTS_MAX   20        /* 255 units / 13 per slot, rounded up */
#define FAT32_CLUSTER_MASK    0x0fffffffu
#define FAT32_EOC             0x0fffffffu
#define FAT32_BAD             0x0ffffff7u
#define FAT32_MIN_CLUSTERS    65525u
#define FAT32_ATTR_LFN        0x0f
#define FAT32_ENTRY_FREE      0x00
#define FAT32_ENTRY_DELETED   0xe5
#define FAT32_CASE_LOWER_BASE 0x08      /* NT reserved byte: base shown in lower case */
#define FAT32_CASE_LOWER_EXT  0x10      /* ... extension shown in lower case */
#define FAT32_CLEAN_BIT       0x08000000u /* FAT[1]: volume was cleanly unmounted */
#define FAT32_NO_SECTOR       0xffffffffffffffffull

struct fat32_volume {
    fat32_ops_t ops;
    bool read_only;
    /* geometry, from the BPB (sector numbers are device sectors) */
    uint32_t sector_size;
    uint32_t sectors_per_cluster;
    uint32_t cluster_size;
    uint32_t fat_start;
    uint32_t fat_sectors;       /* of one copy */
    uint32_t fat_count;
    uint32_t active_fat;        /* used when mirroring is off */
    bool mirror;
    uint64_t data_start;
    uint32_t cluster_count;     /* valid clusters are 2 .. cluster_count + 1 */
    uint32_t root_cluster;
    uint32_t fsinfo_sector;     /* 0: none */
    /* allocation state (written to FSInfo at sync) */
    uint32_t free_count;        /* meaningful only when free_known */
    bool free_known;            /* FSInfo was trusted, or the FAT has been counted */
    uint32_t next_free;
    bool was_dirty;
    /* one cached sector of the FAT (an index within one copy) */
    uint8_t *fat_buffer;
    uint64_t fat_cached;
    bool fat_dirty;
    /* one cached directory sector (absolute sector number) */
    uint8_t *dir_buffer;
    uint64_t dir_cached;
};

/* A located directory entry: where its short entry is and where its LFN slots start. */
typedef struct {
    uint8_t raw[FAT32_ENTRY_SIZE];  /* the short entry */
    uint32_t index;                 /* entry number of the short entry in the directory */
    uint32_t first_index;           /* entry number of its first LFN slot (or index) */
    uint32_t cluster;               /* cluster holding the short entry */
    uint32_t offset;                /* byte offset in that cluster */
} fat32_slot_t;

/* volume.c */
void fat32_log(fat32_volume_t *vol, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
int fat32_dev_read(fat32_volume_t *vol, uint64_t sector, uint32_t count, void *buffer);
int fat32_dev_write(fat32_volume_t *vol, uint64_t sector, uint32_t count, const void *buffer);
/* The same for directory sectors: through ops.write_dir when the host gave one. */
int fat32_dev_write_dir(fat32_volume_t *vol, uint64_t sector, uint32_t count,
                        const void *buffer);
uint64_t fat32_cluster_sector(const fat32_volume_t *vol, uint32_t cluster);
bool fat32_cluster_valid(const fat32_volume_t *vol, uint32_t cluster);

/* Little-endian fields, inline: a FAT scan reads one per cluster. */
static inline uint16_t fat32_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t fat32_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void fat32_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void fat32_put32(uint8_t *p, uint32_t v)
{
    fat32_put16(p, (uint16_t)v);
    fat32_put16(p + 2, (uint16_t)(v >> 16));
}

/*
 * Finding a loop in a cluster chain as soon as it closes (Brent's method): the walker
 * keeps one earlier cluster, the mark, and moves it up to where it stands after 1, 2, 4,
 * ... steps. A chain that loops meets its mark again within twice its lead-in plus loop
 * length, so a corrupt loop costs a few steps, not a walk to the cluster count.
 */
typedef struct {
    uint32_t mark;   /* an earlier cluster of the chain: meeting it again is a loop */
    uint32_t steps;  /* steps since the mark was set */
    uint32_t span;   /* the mark moves up when steps reaches this; doubles each time */
} fat32_loop_t;

static inline void fat32_loop_start(fat32_loop_t *loop, uint32_t from)
{
    *loop = (fat32_loop_t){ .mark = from, .span = 1 };
}

/* Records a step to `next`; true when that closes a loop. */
static inline bool fat32_loop_closes(fat32_loop_t *loop, uint32_t next)
{
    if (next == loop->mark)
        return true;
    if (++loop->steps == loop->span) {
        loop->mark = next;
        loop->steps = 0;
        loop->span *= 2;
    }
    return false;
}

/* fat.c */
int fat32_fat_get(fat32_volume_t *vol, uint32_t cluster, uint32_t *value);
int fat32_fat_set(fat32_volume_t *vol, uint32_t cluster, uint32_t value);
int fat32_fat_flush(fat32_volume_t *vol);
int fat32_check_start(fat32_volume_t *vol, uint32_t first);
int fat32_next_cluster(fat32_volume_t *vol, uint32_t cluster, uint32_t *next);
int fat32_chain_seek(fat32_volume_t *vol, fat32_node_t *node, uint32_t index,
                     uint32_t *cluster);
int fat32_chain_last(fat32_volume_t *vol, uint32_t first, uint32_t *last, uint32_t *length);
int fat32_alloc_cluster(fat32_volume_t *vol, uint32_t previous, uint32_t *out);
int fat32_free_chain(fat32_volume_t *vol, uint32_t first);
int fat32_count_free(fat32_volume_t *vol);
int fat32_zero_cluster(fat32_volume_t *vol, uint32_t cluster);

/* name.c */
typedef struct {
    uint16_t units[FAT32_NAME_MAX + 1];
    uint32_t length;
} fat32_name_t;

int fat32_name_from_utf8(const char *utf8, fat32_name_t *out);
int fat32_name_check(fat32_name_t *name);
void fat32_name_to_utf8(const fat32_name_t *name, char *out, size_t size);
bool fat32_name_equal(const fat32_name_t *a, const fat32_name_t *b);
bool fat32_short_exact(const fat32_name_t *name, uint8_t out[11], uint8_t *case_bits);
bool fat32_short_basis(const fat32_name_t *name, uint8_t basis[11]);
bool fat32_short_candidate(const uint8_t basis[11], const fat32_name_t *name, uint32_t n,
                           uint8_t out[11]);
void fat32_short_to_name(const uint8_t *entry, fat32_name_t *out);
bool fat32_short_name_is(const uint8_t *entry, const fat32_name_t *want);
uint8_t fat32_lfn_checksum(const uint8_t short_name[11]);
void fat32_lfn_fill(uint8_t *slot, const fat32_name_t *name, uint32_t ordinal, bool last,
                    uint8_t checksum);
void fat32_lfn_extract(const uint8_t *slot, uint16_t *units13);

/* dir.c */
/* Called for each live entry; long_name is NULL when the entry has none (then
 * fat32_short_to_name(slot->raw) is its name: built only by the visitors that need it). */
typedef int (*fat32_visit_t)(void *context, const fat32_slot_t *slot,
                             const fat32_name_t *long_name);
int fat32_dir_scan(fat32_volume_t *vol, uint32_t first_cluster, uint32_t start_index,
                   fat32_visit_t visit, void *context);
int fat32_dir_find(fat32_volume_t *vol, uint32_t dir_cluster, const fat32_name_t *name,
                   fat32_slot_t *out);
int fat32_dir_add(fat32_volume_t *vol, uint32_t dir_cluster, const fat32_name_t *name,
                  const uint8_t *template_entry, fat32_slot_t *out);
int fat32_dir_remove(fat32_volume_t *vol, uint32_t dir_cluster, const fat32_slot_t *slot);
int fat32_dir_is_empty(fat32_volume_t *vol, uint32_t dir_cluster);
int fat32_entry_update(fat32_volume_t *vol, const fat32_node_t *node, const uint8_t *entry);
int fat32_entry_read(fat32_volume_t *vol, const fat32_node_t *node, uint8_t *entry);
void fat32_node_from_slot(const fat32_slot_t *slot, uint32_t dir_cluster, fat32_node_t *out);
uint32_t fat32_entry_cluster(const uint8_t *entry);
void fat32_entry_set_cluster(uint8_t *entry, uint32_t cluster);

/* file.c */
void fat32_stamp(fat32_volume_t *vol, uint8_t *entry, bool create, bool modify);
int64_t fat32_time_from_fat(uint16_t date, uint16_t time);

#endif
