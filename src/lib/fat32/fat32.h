/* SPDX-License-Identifier: MIT */
/*
 * FAT32 filesystem library: the one public header.
 *
 * Pure logic: every sector goes through the caller's fat32_ops_t (read, write, flush),
 * every allocation through its alloc/free callbacks, the time of day through its clock
 * and every diagnostic through its log callback. No globals, so any number of volumes can
 * be mounted at once. Compiles freestanding (the kernel) and for the host (tests, fuzzer).
 *
 * Errors are negative VK_E* values (include/vk/errno.h); -VK_EIO also means "the on-disk
 * structures are inconsistent", always with a log line saying what was wrong.
 *
 * Nodes. A fat32_node_t is a small value the caller owns (a VFS keeps one per vnode). It
 * names a file or directory by the location of its short directory entry and carries its
 * first cluster and size. Calls that change a node (write, truncate, rename) update the
 * caller's copy; keep one copy per file, other copies go stale. fat32_node_key() is unique
 * among the live nodes of a volume and stable until the node is renamed or deleted.
 *
 * Not thread-safe: the caller serialises all calls on one volume (one lock per volume).
 * docs/storage.md describes the on-disk guarantees, name rules and what a VFS must do.
 */
#ifndef SRC_LIB_FAT32_FAT32_H
#define SRC_LIB_FAT32_FAT32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAT32_NAME_MAX        255  /* UTF-16 code units in a long name */
#define FAT32_NAME_UTF8_MAX   (FAT32_NAME_MAX * 3 + 1) /* a name as UTF-8, with its NUL */
#define FAT32_FILE_SIZE_MAX   0xffffffffull

/* Directory entry attributes (FAT spec, "Directory Structure"). */
#define FAT32_ATTR_READ_ONLY  0x01
#define FAT32_ATTR_HIDDEN     0x02
#define FAT32_ATTR_SYSTEM     0x04
#define FAT32_ATTR_VOLUME_ID  0x08
#define FAT32_ATTR_DIRECTORY  0x10
#define FAT32_ATTR_ARCHIVE    0x20

typedef struct fat32_volume fat32_volume_t;

/* What the library needs from its host. Copied at mount; context is passed back as is. */
typedef struct {
    void *context;
    /* Device: sector_size bytes a sector, sector_count sectors. Return 0 or -VK_EIO. */
    uint32_t sector_size;
    uint64_t sector_count;
    int (*read)(void *context, uint64_t sector, uint32_t count, void *buffer);
    int (*write)(void *context, uint64_t sector, uint32_t count, const void *buffer);
    /* Directory sectors (entries, new directory clusters) go through write_dir when it
     * is not NULL, so a write-back cache can order them after data and FAT sectors. */
    int (*write_dir)(void *context, uint64_t sector, uint32_t count, const void *buffer);
    int (*flush)(void *context);           /* may be NULL: nothing to flush */
    /* Memory: used at mount (volume state, two sector buffers), freed at unmount. */
    void *(*alloc)(void *context, size_t size);
    void (*free)(void *context, void *pointer);
    /* Clock in Unix seconds (UTC; FAT stores it as is). NULL: 1980-01-01. */
    int64_t (*now)(void *context);
    /* One line of diagnostic text, no newline. May be NULL. */
    void (*log)(void *context, const char *message);
    bool read_only;                        /* also implied when write is NULL */
} fat32_ops_t;

/* A file or directory; see the note at the top. Fields are read-only for callers. */
typedef struct {
    uint32_t first_cluster;  /* 0: empty file */
    uint32_t size;           /* bytes; 0 for directories */
    uint32_t entry_cluster;  /* cluster holding the short entry; 0 for the root */
    uint32_t entry_offset;   /* byte offset of the short entry in that cluster */
    uint32_t parent_cluster; /* first cluster of the containing directory */
    uint32_t hint_index;     /* private: a cluster index in the chain ... */
    uint32_t hint_cluster;   /* ... and the cluster there (0: no hint) */
    uint32_t contig;         /* private: the chain's first `contig` clusters are known to
                                be first_cluster, first_cluster + 1, ... (0: unknown) */
    uint16_t access_date;    /* private: last access date as stored */
    uint8_t attributes;      /* FAT32_ATTR_* */
    uint8_t _pad;
} fat32_node_t;

typedef struct {
    uint64_t size;
    uint32_t first_cluster;
    uint8_t attributes;
    bool is_dir;
    int64_t create_time;     /* Unix seconds */
    int64_t modify_time;
    int64_t access_time;     /* day resolution */
} fat32_stat_t;

typedef struct {
    char name[FAT32_NAME_UTF8_MAX]; /* UTF-8, NUL-terminated */
    fat32_node_t node;
    bool is_dir;
} fat32_dirent_t;

typedef struct {
    bool was_dirty;           /* not cleanly unmounted last time (or a hard error flagged) */
    uint32_t cluster_count;
    uint32_t cluster_size;    /* bytes */
    uint32_t free_clusters;   /* FAT32_FREE_UNKNOWN until counted (see below) */
    uint32_t sector_size;
} fat32_info_t;

#define FAT32_FREE_UNKNOWN 0xffffffffu

/* Validates the boot sector and opens the volume; marks it dirty until unmount. On
 * refusal returns -VK_EINVAL (not FAT32 / inconsistent BPB) or -VK_EIO and logs why. */
int fat32_mount(const fat32_ops_t *ops, fat32_volume_t **out, fat32_info_t *info);
/* Flushes, writes FSInfo, marks the volume clean and frees it (also after errors). */
int fat32_unmount(fat32_volume_t *vol);
/* Everything written so far reaches the device and the device is flushed. */
int fat32_sync(fat32_volume_t *vol);
/* What is known without I/O. The free count comes from FSInfo on a cleanly unmounted
 * volume and is kept up to date from there; after an unclean unmount it is
 * FAT32_FREE_UNKNOWN until fat32_count_free_clusters has read the FAT. */
void fat32_info(fat32_volume_t *vol, fat32_info_t *info);
/* The exact free count, reading the whole FAT the first time it is not known. */
int fat32_count_free_clusters(fat32_volume_t *vol, uint32_t *out);

void fat32_root(fat32_volume_t *vol, fat32_node_t *out);
uint64_t fat32_node_key(const fat32_node_t *node);
bool fat32_is_dir(const fat32_node_t *node);

/* Names are NUL-terminated UTF-8; matching is case-insensitive (docs/storage.md). */
int fat32_lookup(fat32_volume_t *vol, const fat32_node_t *dir, const char *name,
                 fat32_node_t *out);
/* Walks a '/'-separated path from the root ("." and ".." allowed). */
int fat32_walk(fat32_volume_t *vol, const char *path, fat32_node_t *out);

/* Entries after *cookie (start with 0); returns 1 and advances *cookie, 0 at the end.
 * "." and ".." are not returned; volume labels and deleted entries are skipped. */
int fat32_readdir(fat32_volume_t *vol, const fat32_node_t *dir, uint32_t *cookie,
                  fat32_dirent_t *out);

/* Byte counts or negative errors. Reads stop at the end of file. Writes past the end
 * fill the gap with zeros; a file is at most FAT32_FILE_SIZE_MAX bytes (-VK_EFBIG). */
int64_t fat32_read(fat32_volume_t *vol, fat32_node_t *node, uint64_t offset, void *buffer,
                   size_t length);
int64_t fat32_write(fat32_volume_t *vol, fat32_node_t *node, uint64_t offset,
                    const void *buffer, size_t length);
int fat32_truncate(fat32_volume_t *vol, fat32_node_t *node, uint64_t size);
int fat32_stat(fat32_volume_t *vol, const fat32_node_t *node, fat32_stat_t *out);
/* utimes: modification time and access date (the root has no times: a no-op). */
int fat32_set_times(fat32_volume_t *vol, fat32_node_t *node, int64_t modify_time,
                    int64_t access_time);
/* Replaces READ_ONLY, HIDDEN, SYSTEM and ARCHIVE; other bits are -VK_EINVAL. The library
 * reports these bits but does not enforce them (the VFS may). */
int fat32_set_attributes(fat32_volume_t *vol, fat32_node_t *node, uint8_t attributes);

int fat32_create(fat32_volume_t *vol, const fat32_node_t *dir, const char *name, bool is_dir,
                 fat32_node_t *out);
int fat32_unlink(fat32_volume_t *vol, const fat32_node_t *dir, const char *name);
int fat32_rmdir(fat32_volume_t *vol, const fat32_node_t *dir, const char *name);
/* POSIX rename: replaces an existing file, or an empty directory by a directory. out
 * (may be NULL) receives the moved node's new identity. */
int fat32_rename(fat32_volume_t *vol, const fat32_node_t *old_dir, const char *old_name,
                 const fat32_node_t *new_dir, const char *new_name, fat32_node_t *out);

#endif
