/* SPDX-License-Identifier: MIT */
/* libFuzzer entry over gpt_read_table: the input is a disk of 512-byte sectors (a
 * partial last sector is dropped). When bit 0 of the first byte (MBR boot code, which
 * GPT ignores) is set, the header and array CRCs at LBA 1 are recomputed first, so the
 * fuzzer also explores what lies behind the CRC checks. Whatever the table, every
 * entry gpt_read_table accepted must lie inside the disk's usable range. */
#include <stdlib.h>
#include <string.h>
/* The CRC has no branch that depends on the data; without coverage tracing its
 * per-byte loop compare (most of the run time on a 64 KiB disk) costs nothing. */
#pragma clang attribute push(__attribute__((no_sanitize("coverage"))), apply_to = function)
#include "../../src/lib/crc32.c"
#pragma clang attribute pop
#include "../../src/lib/gpt.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const uint8_t *bytes;
    uint64_t sectors;
} image_t;

static int image_read(void *ctx, uint64_t lba, uint32_t count, void *buf)
{
    const image_t *img = ctx;
    if (lba > img->sectors || count > img->sectors - lba)
        return -1;
    memcpy(buf, img->bytes + lba * 512, (size_t)count * 512);
    return 0;
}

static void reseal(uint8_t *buf, uint64_t sectors)
{
    if (sectors < 2)
        return;
    uint8_t *h = buf + 512;
    uint32_t hsize = le32(h + HDR_SIZE);
    uint64_t lba = le64(h + HDR_ENTRIES_LBA);
    uint64_t bytes = (uint64_t)le32(h + HDR_ENTRY_COUNT) * le32(h + HDR_ENTRY_SIZE);
    if (lba < sectors && bytes <= (sectors - lba) * 512)
        memcpy(h + HDR_ENTRIES_CRC32, &(uint32_t){ crc32_compute(buf + lba * 512, bytes) }, 4);
    if (hsize >= 20 && hsize <= 512) {
        memset(h + HDR_CRC32, 0, 4);
        memcpy(h + HDR_CRC32, &(uint32_t){ crc32_compute(h, hsize) }, 4);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t sectors = size / 512;
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    if (size && (buf[0] & 1))
        reseal(buf, sectors);
    static uint8_t scratch[GPT_SCRATCH_BYTES];
    image_t img = { buf, sectors };
    gpt_disk_t disk = { 512, sectors, image_read, &img };
    gpt_table_t t;
    if (gpt_read_table(&disk, scratch, sizeof(scratch), &t) == GPT_OK) {
        if (t.header.last_usable_lba >= sectors || t.entries_size > GPT_MAX_ENTRIES_BYTES)
            abort();
        for (uint32_t i = 0; i < t.header.entry_count; i++) {
            gpt_partition_t p;
            gpt_error_t err = gpt_entry_get(&t, i, &p);
            if (err == GPT_EMPTY)
                continue;
            if (err != GPT_OK || p.first_lba > p.last_lba ||
                p.first_lba < t.header.first_usable_lba || p.last_lba > t.header.last_usable_lba ||
                strlen(p.name) >= sizeof(p.name))
                abort();
        }
    }
    free(buf);
    return 0;
}
