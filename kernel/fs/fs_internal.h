/* SPDX-License-Identifier: MIT */
/*
 * Calls between the files of kernel/fs. Everything outside kernel/fs uses fs/vfs.h.
 */
#ifndef KERNEL_FS_FS_INTERNAL_H
#define KERNEL_FS_FS_INTERNAL_H

#include "fs/vfs.h"

/* ---- ramfs.c: directories and files in kernel memory, also the body of devfs ---- */

/* A new, empty ramfs instance: its mount, with the root directory made. A read-only
 * one can still be filled with the ramfs_add_* calls below. */
mount_t *ramfs_create(const char *fs_name, bool read_only);
/* Adds a regular file whose bytes are the read-only memory [data, data + size) until it
 * is first changed. dir is a ramfs directory. */
int ramfs_add_file(vnode_t *dir, const char *name, const void *data, uint64_t size,
                   uint32_t mode);
/* Adds a character device: opening it gives a file with ops and private. */
int ramfs_add_device(vnode_t *dir, const char *name, const file_ops_t *ops, void *private,
                     uint32_t mode);
/* Adds (or finds) a directory; returns a reference. */
int ramfs_add_dir(vnode_t *dir, const char *name, vnode_t **out);
/* Removes a file or device node from a ramfs directory (kernel use: read-only mounts
 * too). Open files on it keep working. */
int ramfs_remove(vnode_t *dir, const char *name);

/* ---- devfs.c ----------------------------------------------------------------------- */

/* Makes /dev's devices and mounts them at path. */
int devfs_mount(const char *path);

/* ---- vnode.c ----------------------------------------------------------------------- */

/* Calls fn on every mount, newest first; logs the ones that fail. */
void vfs_for_each_mount(int (*fn)(mount_t *m));
/* The mount at index, newest first; NULL past the last. Mounts are never removed
 * (vfs_set_root takes the boot ramfs out of the list, but does not free it). */
mount_t *vfs_mount_get(unsigned index);

/* ---- fat32fs.c --------------------------------------------------------------------- */

typedef struct blockdev blockdev_t;
/* Opens the FAT32 volume on dev (marking it dirty) as a mount that is not yet mounted
 * anywhere (vfs_mount_at or vfs_set_root places it); NULL when it cannot (logged).
 * fat32fs_unmount closes one that stays unplaced. */
mount_t *fat32fs_open(blockdev_t *dev);
/* Writes everything out and marks the volume clean; later calls on it fail with EIO.
 * Does nothing for mounts of other filesystems. */
int fat32fs_unmount(mount_t *m);

#endif
