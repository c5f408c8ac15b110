/* SPDX-License-Identifier: MIT */
/*
 * The boot-time tree. Until the disk is mounted (issue: storage) the root is a ramfs:
 *
 *   /boot/modules/NAME   every file the loader read from \boot\modules on the ESP
 *   /bin/NAME            the same bytes, for each module that is a program (an ELF file)
 *   /tmp                 writable, in memory
 *   /dev                 devfs
 *   /kobj                the KObj tree (kernel/kobj/kobjfs.c)
 *
 * Module files point at the loader's memory (zero-copy) until something writes them.
 * Once the disks are up, the boot disk's FAT32 partitions are mounted on /data and
 * /boot/efi (vfs_mount_disks).
 */
#include "fs/fs_internal.h"
#include "kobj/kobj.h"
#include "core/kernel.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/string.h"
#include <vk/errno.h>
#include "mm/mm.h"
#include "block/block.h"

#define MODULE_PREFIX "modules/"

static bool is_elf(const void *bytes, uint64_t size)
{
    return size >= 4 && !memcmp(bytes, "\x7f" "ELF", 4);
}

static void add_modules(vnode_t *root)
{
    vnode_t *boot, *modules, *bin;
    if (ramfs_add_dir(root, "boot", &boot) || ramfs_add_dir(boot, "modules", &modules) ||
        ramfs_add_dir(root, "bin", &bin))
        panic("vfs: cannot build /boot/modules and /bin");
    const vk_boot_info_t *info = kernel_boot_info();
    const vk_boot_module_t *m = phys_to_virt(info->modules);
    unsigned programs = 0;
    for (uint32_t i = 0; i < info->module_count; i++) {
        if (strncmp(m[i].name, MODULE_PREFIX, strlen(MODULE_PREFIX)))
            continue;
        const char *name = m[i].name + strlen(MODULE_PREFIX);
        if (!name[0] || strchr(name, '/'))
            continue;
        const void *bytes = phys_to_virt(m[i].base);
        if (ramfs_add_file(modules, name, bytes, m[i].size, 0444))
            log_warn("vfs: module %s not added", name);
        if (is_elf(bytes, m[i].size) && !ramfs_add_file(bin, name, bytes, m[i].size, 0555))
            programs++;
    }
    log_info("vfs: %u programs in /bin from boot modules", programs);
    vnode_unref(boot);
    vnode_unref(modules);
    vnode_unref(bin);
}

void vfs_init(void)
{
    mount_t *rootfs = ramfs_create("ramfs", false);
    if (!rootfs || vfs_mount_at(rootfs, "/"))
        panic("vfs: cannot mount the root ramfs");
    add_modules(rootfs->root);
    vnode_t *tmp, *dev;
    if (ramfs_add_dir(rootfs->root, "tmp", &tmp) || ramfs_add_dir(rootfs->root, "dev", &dev))
        panic("vfs: cannot make /tmp and /dev");
    vnode_unref(tmp);
    vnode_unref(dev);
    int err = devfs_mount("/dev");
    if (err)
        panic("vfs: cannot mount devfs on /dev: error %d", err);
    err = kobjfs_mount("/kobj");
    if (err)
        log_warn("vfs: cannot mount the KObj tree on /kobj: error %d", err);
}

/* GPT partition type GUIDs as stored on disk (the first three fields little-endian). */
static const uint8_t esp_type[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
                                      0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
#define DATA_PARTITION_NAME "vkernel data"

static void mount_partition(blockdev_t *dev, const char *path)
{
    int err = vfs_mkdir(NULL, path, 0755);
    if (err && err != -VK_EEXIST)
        log_warn("vfs: cannot make %s: error %d", path, err);
    else
        fat32fs_mount(dev, path);
}

void vfs_mount_disks(void)
{
    blockdev_t *data = NULL, *esp = NULL;
    for (unsigned i = 0; i < blockdev_count(); i++) {
        blockdev_t *dev = blockdev_get(i);
        if (!dev->parent)
            continue;
        if (!data && !strcmp(dev->partition_name, DATA_PARTITION_NAME))
            data = dev;
        else if (!esp && !memcmp(dev->type_guid, esp_type, sizeof(esp_type)))
            esp = dev;
    }
    if (data)
        mount_partition(data, "/data");
    else
        log_warn("vfs: no partition named \"" DATA_PARTITION_NAME "\"; /data is not mounted");
    if (esp)
        mount_partition(esp, "/boot/efi");
}

void vfs_shutdown(void)
{
    vfs_sync_all();
    vfs_for_each_mount(fat32fs_unmount);
}
