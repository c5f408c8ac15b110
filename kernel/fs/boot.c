/* SPDX-License-Identifier: MIT */
/*
 * The boot-time tree. vfs_init builds it on a ramfs root:
 *
 *   /bin           the boot modules that are programs (ELF files); a read-only ramfs
 *   /boot/modules  every file the loader read from \boot\modules on the ESP; read-only
 *   /tmp           writable, in memory; a ramfs of its own
 *   /dev           devfs
 *   /kobj          the KObj tree (kernel/kobj/kobjfs.c)
 *
 * Each of these is a mount of its own, so vfs_mount_disks can move them. Once the disks
 * are up it makes the boot disk's data partition (FAT32, GPT name "vkernel data") the
 * root, moves the five mounts onto it, and mounts the ESP on /boot with /boot/modules
 * moved on top. Mount points missing on a volume are made (and logged). When the data
 * partition is missing or does not mount, the ramfs stays the root (logged) and only
 * the ESP is mounted. Module files point at the loader's memory (zero-copy).
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

/* Two read-only ramfs instances over the boot modules: every module, and the programs. */
static void add_modules(mount_t *modules, mount_t *bin)
{
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
        if (ramfs_add_file(modules->root, name, bytes, m[i].size, 0444))
            log_warn("vfs: module %s not added", name);
        if (is_elf(bytes, m[i].size) && !ramfs_add_file(bin->root, name, bytes, m[i].size, 0555))
            programs++;
    }
    log_info("vfs: %u programs in /bin from boot modules", programs);
}

/* The mount whose root `path` names (a mount point of the boot tree). */
static mount_t *mount_of(const char *path)
{
    vnode_t *v;
    if (vfs_lookup(NULL, path, &v))
        panic("vfs: %s vanished", path);
    mount_t *m = v->mount;
    KASSERT(m->root == v);
    vnode_unref(v);
    return m;
}

/* The boot tree's mounts besides the root, in the order they go onto a new root. */
static struct {
    const char *path;
    mount_t *mount;
} tree[] = { { "/bin", NULL }, { "/tmp", NULL }, { "/dev", NULL }, { "/kobj", NULL },
             { "/boot/modules", NULL } };
enum { TREE_MODULES = 4 };

void vfs_init(void)
{
    mount_t *rootfs = ramfs_create("ramfs", false);
    if (!rootfs || vfs_mount_at(rootfs, "/"))
        panic("vfs: cannot mount the root ramfs");
    mount_t *modules = ramfs_create("ramfs", true), *bin = ramfs_create("ramfs", true);
    mount_t *tmp = ramfs_create("ramfs", false);
    if (!modules || !bin || !tmp)
        panic("vfs: no memory for the boot tree");
    add_modules(modules, bin);
    static const char *const dirs[] = { "/bin", "/boot", "/boot/modules", "/tmp", "/dev" };
    for (unsigned i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (vfs_mkdir(NULL, dirs[i], 0755))
            panic("vfs: cannot make %s", dirs[i]);
    if (vfs_mount_at(bin, "/bin") || vfs_mount_at(modules, "/boot/modules") ||
        vfs_mount_at(tmp, "/tmp"))
        panic("vfs: cannot mount /bin, /boot/modules and /tmp");
    int err = devfs_mount("/dev");
    if (err)
        panic("vfs: cannot mount devfs on /dev: error %d", err);
    err = kobjfs_mount("/kobj");
    if (err)
        log_warn("vfs: cannot mount the KObj tree on /kobj: error %d", err);
    for (unsigned i = 0; i < sizeof(tree) / sizeof(tree[0]); i++)
        tree[i].mount = err && !strcmp(tree[i].path, "/kobj") ? NULL : mount_of(tree[i].path);
}

/* GPT partition type GUIDs as stored on disk (the first three fields little-endian). */
static const uint8_t esp_type[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
                                      0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
#define DATA_PARTITION_NAME "vkernel data"

/* Makes sure directory `path` (from `at`, or absolute) exists, making it if absent:
 * true when it does. Only its last component is made. */
static bool mount_point_ready(vnode_t *at, const char *path)
{
    vnode_t *v;
    int err = vfs_lookup(at, path, &v);
    if (!err) {
        bool dir = v->type == VNODE_DIR;
        vnode_unref(v);
        if (!dir)
            log_warn("vfs: %s is not a directory, so nothing can be mounted there", path);
        return dir;
    }
    err = err == -VK_ENOENT ? vfs_mkdir(at, path, 0755) : err;
    if (err) {
        log_warn("vfs: no directory %s to mount on, and cannot make it: error %d", path, err);
        return false;
    }
    log_info("vfs: made the mount point %s%s", at ? "/" : "", path);
    return true;
}

/* The data partition as the root: every mount point ready, then the boot tree moved
 * (all but /boot/modules, which goes last, see place_modules). */
static bool make_root(mount_t *data)
{
    static const char *const points[] = { "bin", "boot", "tmp", "dev", "kobj" };
    for (unsigned i = 0; i < sizeof(points) / sizeof(points[0]); i++)
        if (!mount_point_ready(data->root, points[i]))
            return false;
    vfs_set_root(data);
    for (unsigned i = 0; i < TREE_MODULES; i++)
        if (tree[i].mount && vfs_move_mount(tree[i].mount, tree[i].path))
            panic("vfs: cannot move %s onto the new root", tree[i].path);
    return true;
}

/* /boot/modules on top of whatever /boot now is (the ESP, the data partition's /boot,
 * or still the ramfs's, where it already is). */
static void place_modules(void)
{
    int err = -VK_ENOENT;
    if (mount_point_ready(NULL, "/boot/modules"))
        err = vfs_move_mount(tree[TREE_MODULES].mount, "/boot/modules");
    if (err)
        log_warn("vfs: the boot modules are not on /boot/modules (error %d)", err);
}

void vfs_mount_disks(void)
{
    blockdev_t *data_dev = NULL, *esp_dev = NULL;
    for (unsigned i = 0; i < blockdev_count(); i++) {
        blockdev_t *dev = blockdev_get(i);
        if (!dev->parent)
            continue;
        if (!data_dev && !strcmp(dev->partition_name, DATA_PARTITION_NAME))
            data_dev = dev;
        else if (!esp_dev && !memcmp(dev->type_guid, esp_type, sizeof(esp_type)))
            esp_dev = dev;
    }
    mount_t *data = data_dev ? fat32fs_open(data_dev) : NULL;
    if (data && !make_root(data)) {
        fat32fs_unmount(data); /* marks it clean again; it was never reachable */
        data = NULL;
    }
    if (!data)
        log_warn("vfs: %s: the root stays the ramfs (in memory; nothing written to it is kept)",
                 data_dev ? "the data partition did not mount"
                          : "no partition named \"" DATA_PARTITION_NAME "\"");
    mount_t *esp = esp_dev ? fat32fs_open(esp_dev) : NULL;
    if (esp) {
        int err = vfs_mount_at(esp, "/boot");
        if (err) {
            log_warn("vfs: %s not mounted on /boot: error %d", esp_dev->name, err);
            fat32fs_unmount(esp);
        }
    }
    place_modules();
}

void vfs_shutdown(void)
{
    vfs_sync_all();
    vfs_for_each_mount(fat32fs_unmount);
}
