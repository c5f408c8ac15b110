/* SPDX-License-Identifier: MIT */
/*
 * In-kernel tests of the block layer on the boot disk, read-only: the disk is found,
 * its GPT yields the two FAT32 partitions scripts/make-disk.sh makes (ESP at 1 MiB,
 * 64 MiB; data partition after it, 256 MiB), and the checked API refuses bad ranges.
 * Nothing here ever writes: the boot disk is the system's own.
 */
#include "block/block.h"
#include "core/log.h"
#include "core/string.h"
#include "drivers/virtio_blk/virtio_blk.h"
#include "mm/mm.h"
#include "test/ktest.h"
#include "time/time.h"
#include <vk/errno.h>

/* scripts/make-disk.sh defaults (ESP_MB=64, DATA_MB=256). */
#define ESP_FIRST   2048u
#define ESP_SECTORS (64u * 2048)
#define DATA_FIRST  (ESP_FIRST + ESP_SECTORS)
#define DATA_SECTORS (256u * 2048)

static blockdev_t *boot_disk(void)
{
    blockdev_t *d = blockdev_find("vda");
    bool ok = d && vblk_owns(d) && strncmp(d->serial, "vkscratch", 9) != 0;
    if (!ok)
        log_printf("ktest: the boot disk vda is missing or is a scratch disk\n");
    return ok ? d : NULL;
}

KTEST(block_boot_disk_found)
{
    blockdev_t *d = boot_disk();
    KTEST_EXPECT(d != NULL);
    if (!d)
        return;
    KTEST_EXPECT_EQ(d->sector_size, 512);
    KTEST_EXPECT(d->parent == NULL);
    KTEST_EXPECT(!d->read_only);
    /* Partitions plus the 1 MiB before and after them. */
    KTEST_EXPECT_EQ(d->sector_count, DATA_FIRST + DATA_SECTORS + 2048);
    KTEST_EXPECT(blockdev_find("vda") == d);
    KTEST_EXPECT(blockdev_find("nosuchdisk") == NULL);
}

static const uint8_t esp_type[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
                                      0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
/* Microsoft basic data, EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 (sgdisk type 0700). */
static const uint8_t basic_data_type[16] = { 0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44,
                                             0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7 };

KTEST(block_gpt_yields_two_partitions)
{
    blockdev_t *d = boot_disk();
    blockdev_t *p1 = blockdev_find("vda1"), *p2 = blockdev_find("vda2");
    KTEST_EXPECT(d && p1 && p2);
    KTEST_EXPECT(blockdev_find("vda3") == NULL);
    if (!d || !p1 || !p2)
        return;
    KTEST_EXPECT(p1->parent == d && p2->parent == d);
    KTEST_EXPECT_EQ(p1->partition_number, 1);
    KTEST_EXPECT_EQ(p1->first_sector, ESP_FIRST);
    KTEST_EXPECT_EQ(p1->sector_count, ESP_SECTORS);
    KTEST_EXPECT_EQ(p2->first_sector, DATA_FIRST);
    KTEST_EXPECT_EQ(p2->sector_count, DATA_SECTORS);
    KTEST_EXPECT(strcmp(p1->partition_name, "EFI System") == 0);
    KTEST_EXPECT(strcmp(p2->partition_name, "vkernel data") == 0);
    KTEST_EXPECT(memcmp(p1->type_guid, esp_type, 16) == 0);
    KTEST_EXPECT(memcmp(p2->type_guid, basic_data_type, 16) == 0);
    KTEST_EXPECT(!gpt_guid_is_zero(p1->partition_guid));
    KTEST_EXPECT(memcmp(p1->partition_guid, p2->partition_guid, 16) != 0);
}

/* The first sector of a FAT32 volume: boot signature and the type string at 82
 * (Microsoft FAT specification, "FAT32 Structure Starting at Offset 36"). */
static bool is_fat32_boot_sector(const uint8_t *s)
{
    return s[510] == 0x55 && s[511] == 0xaa && memcmp(s + 82, "FAT32   ", 8) == 0;
}

KTEST(block_partitions_hold_fat32_boot_sectors)
{
    uint8_t *buf = kmalloc(512);
    blockdev_t *p1 = blockdev_find("vda1"), *p2 = blockdev_find("vda2");
    KTEST_EXPECT(buf && p1 && p2);
    if (!buf || !p1 || !p2)
        goto out;
    memset(buf, 0, 512);
    KTEST_EXPECT_EQ(blockdev_read(p1, 0, 1, buf), 0);
    KTEST_EXPECT(is_fat32_boot_sector(buf));
    memset(buf, 0, 512);
    KTEST_EXPECT_EQ(blockdev_read(p2, 0, 1, buf), 0);
    KTEST_EXPECT(is_fat32_boot_sector(buf));
out:
    kfree(buf);
}

KTEST(block_partition_reads_are_offset_into_the_disk)
{
    blockdev_t *d = boot_disk(), *p2 = blockdev_find("vda2");
    uint8_t *a = kmalloc(4096), *b = kmalloc(4096);
    KTEST_EXPECT(d && p2 && a && b);
    if (d && p2 && a && b) {
        KTEST_EXPECT_EQ(blockdev_read(p2, 0, 8, a), 0);
        KTEST_EXPECT_EQ(blockdev_read(d, DATA_FIRST, 8, b), 0);
        KTEST_EXPECT(memcmp(a, b, 4096) == 0);
    }
    kfree(a);
    kfree(b);
}

KTEST(block_refuses_bad_ranges_before_the_driver)
{
    blockdev_t *p1 = blockdev_find("vda1");
    uint8_t *buf = kmalloc(1024);
    KTEST_EXPECT(p1 && buf);
    if (p1 && buf) {
        uint64_t before = vblk_requests_submitted(p1->parent);
        KTEST_EXPECT_EQ(blockdev_read(p1, p1->sector_count, 1, buf), -VK_EINVAL);
        KTEST_EXPECT_EQ(blockdev_read(p1, p1->sector_count - 1, 2, buf), -VK_EINVAL);
        KTEST_EXPECT_EQ(blockdev_read(p1, UINT64_MAX, 2, buf), -VK_EINVAL); /* wraps */
        KTEST_EXPECT_EQ(blockdev_read(p1, 0, 1, NULL), -VK_EINVAL);
        KTEST_EXPECT_EQ(blockdev_read(p1, 0, 0, buf), 0);
        KTEST_EXPECT_EQ(vblk_requests_submitted(p1->parent), before);
        /* The last sector itself is fine. */
        KTEST_EXPECT_EQ(blockdev_read(p1, p1->sector_count - 1, 1, buf), 0);
        KTEST_EXPECT_EQ(vblk_requests_submitted(p1->parent), before + 1);
    }
    kfree(buf);
}

/* Not a pass/fail figure: how long a 1 MiB read of the boot disk takes (TCG). */
KTEST(block_boot_disk_1mib_read_time)
{
    blockdev_t *d = boot_disk();
    uint8_t *buf = kmalloc(1u << 20);
    KTEST_EXPECT(d && buf);
    if (d && buf) {
        uint64_t before = vblk_requests_submitted(d);
        uint64_t t0 = time_monotonic_ns();
        KTEST_EXPECT_EQ(blockdev_read(d, DATA_FIRST, 2048, buf), 0);
        uint64_t ns = time_monotonic_ns() - t0;
        log_printf("ktest: block: 1 MiB read from vda in %llu us, %llu device requests\n",
                   (unsigned long long)(ns / 1000),
                   (unsigned long long)(vblk_requests_submitted(d) - before));
        KTEST_EXPECT(is_fat32_boot_sector(buf));
    }
    kfree(buf);
}
