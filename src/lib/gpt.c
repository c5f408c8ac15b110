/* SPDX-License-Identifier: MIT */
/*
 * GPT validation (see gpt.h). Every on-disk field is hostile: sizes and LBAs are checked
 * for wrap-around before any arithmetic uses them, and nothing is read outside the
 * caller's buffers. Fields are decoded bytewise (little-endian, possibly unaligned).
 */
#include "lib/gpt.h"
#include "lib/crc32.h"

/* Header field offsets (UEFI 2.10, Table 5.5 "GPT Header"). */
#define HDR_SIGNATURE      0
#define HDR_REVISION       8
#define HDR_SIZE           12
#define HDR_CRC32          16
#define HDR_MY_LBA         24
#define HDR_ALTERNATE_LBA  32
#define HDR_FIRST_USABLE   40
#define HDR_LAST_USABLE    48
#define HDR_DISK_GUID      56
#define HDR_ENTRIES_LBA    72
#define HDR_ENTRY_COUNT    80
#define HDR_ENTRY_SIZE     84
#define HDR_ENTRIES_CRC32  88
#define GPT_REVISION_MAJOR 1u /* 1.0 is 0x00010000; accept any 1.x */

/* Entry field offsets (Table 5.6 "GPT Partition Entry"). */
#define ENT_TYPE_GUID      0
#define ENT_PART_GUID      16
#define ENT_FIRST_LBA      32
#define ENT_LAST_LBA       40
#define ENT_ATTRIBUTES     48
#define ENT_NAME           56

/* Protective MBR (§5.2.3): the signature and four 16-byte records at 446. */
#define MBR_RECORDS        446
#define MBR_SIGNATURE      510
#define MBR_TYPE_GPT       0xee

static const uint8_t gpt_signature[8] = { 'E', 'F', 'I', ' ', 'P', 'A', 'R', 'T' };

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void copy_bytes(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
}

bool gpt_guid_is_zero(const uint8_t guid[16])
{
    for (int i = 0; i < 16; i++)
        if (guid[i])
            return false;
    return true;
}

gpt_error_t gpt_check_protective_mbr(const void *sector0, size_t size)
{
    const uint8_t *s = sector0;
    if (size < 512 || s[MBR_SIGNATURE] != 0x55 || s[MBR_SIGNATURE + 1] != 0xaa)
        return GPT_ERR_NO_PROTECTIVE_MBR;
    /* A hybrid MBR holds other records too: one of type 0xEE is enough. */
    for (int i = 0; i < 4; i++)
        if (s[MBR_RECORDS + 16 * i + 4] == MBR_TYPE_GPT)
            return GPT_OK;
    return GPT_ERR_NO_PROTECTIVE_MBR;
}

/* Bytes of the entry array, rounded up to whole sectors, in sectors. */
static uint64_t entry_sectors(const gpt_header_t *h, uint32_t sector_size)
{
    uint64_t bytes = (uint64_t)h->entry_count * h->entry_size;
    return (bytes + sector_size - 1) / sector_size;
}

gpt_error_t gpt_parse_header(const void *sector, uint32_t sector_size, uint64_t lba,
                             uint64_t disk_sectors, gpt_header_t *out)
{
    const uint8_t *s = sector;
    for (int i = 0; i < 8; i++)
        if (s[HDR_SIGNATURE + i] != gpt_signature[i])
            return GPT_ERR_SIGNATURE;
    if (le32(s + HDR_REVISION) >> 16 != GPT_REVISION_MAJOR)
        return GPT_ERR_REVISION;
    uint32_t size = le32(s + HDR_SIZE);
    if (size < GPT_HEADER_MIN_SIZE || size > sector_size)
        return GPT_ERR_HEADER_SIZE;
    /* The CRC covers HeaderSize bytes with its own field taken as zero. */
    static const uint8_t zero[4];
    uint32_t crc = crc32_update(0, s, HDR_CRC32);
    crc = crc32_update(crc, zero, 4);
    crc = crc32_update(crc, s + HDR_CRC32 + 4, size - HDR_CRC32 - 4);
    if (crc != le32(s + HDR_CRC32))
        return GPT_ERR_HEADER_CRC;

    gpt_header_t h;
    h.my_lba = le64(s + HDR_MY_LBA);
    h.alternate_lba = le64(s + HDR_ALTERNATE_LBA);
    h.first_usable_lba = le64(s + HDR_FIRST_USABLE);
    h.last_usable_lba = le64(s + HDR_LAST_USABLE);
    copy_bytes(h.disk_guid, s + HDR_DISK_GUID, 16);
    h.entries_lba = le64(s + HDR_ENTRIES_LBA);
    h.entry_count = le32(s + HDR_ENTRY_COUNT);
    h.entry_size = le32(s + HDR_ENTRY_SIZE);
    h.entries_crc32 = le32(s + HDR_ENTRIES_CRC32);

    if (h.my_lba != lba)
        return GPT_ERR_HEADER_LBA;
    /* Usable space: not the MBR or primary header, not past the disk, not reversed. */
    if (h.first_usable_lba < 2 || h.first_usable_lba > h.last_usable_lba ||
        h.last_usable_lba >= disk_sectors)
        return GPT_ERR_USABLE_RANGE;
    /* 128 * 2^n (§5.3.2). */
    if (h.entry_size < GPT_ENTRY_MIN_SIZE || (h.entry_size & (h.entry_size - 1)) != 0)
        return GPT_ERR_ENTRY_SIZE;
    /* Both factors are 32-bit, so the product cannot wrap 64 bits. */
    if ((uint64_t)h.entry_count * h.entry_size > GPT_MAX_ENTRIES_BYTES)
        return GPT_ERR_ENTRIES_TOO_LARGE;
    uint64_t n = entry_sectors(&h, sector_size);
    /* The array sits inside the disk, clear of LBA 0 and of the usable range. */
    if (h.entries_lba < 1 || h.entries_lba >= disk_sectors || n > disk_sectors - h.entries_lba)
        return GPT_ERR_ENTRIES_LOCATION;
    if (n && h.entries_lba <= h.last_usable_lba && h.entries_lba + n > h.first_usable_lba)
        return GPT_ERR_ENTRIES_LOCATION;
    if (n && h.entries_lba <= h.my_lba && h.entries_lba + n > h.my_lba)
        return GPT_ERR_ENTRIES_LOCATION;
    *out = h;
    return GPT_OK;
}

static void entry_range(const uint8_t *e, uint64_t *first, uint64_t *last)
{
    *first = le64(e + ENT_FIRST_LBA);
    *last = le64(e + ENT_LAST_LBA);
}

gpt_error_t gpt_check_entries(const gpt_header_t *h, const void *entries, size_t size)
{
    size_t bytes = (size_t)h->entry_count * h->entry_size;
    if (bytes > size)
        return GPT_ERR_ARGUMENT;
    if (crc32_compute(entries, bytes) != h->entries_crc32)
        return GPT_ERR_ENTRIES_CRC;
    const uint8_t *base = entries;
    for (uint32_t i = 0; i < h->entry_count; i++) {
        const uint8_t *e = base + (size_t)i * h->entry_size;
        if (gpt_guid_is_zero(e + ENT_TYPE_GUID))
            continue;
        uint64_t first, last;
        entry_range(e, &first, &last);
        if (first > last || first < h->first_usable_lba || last > h->last_usable_lba)
            return GPT_ERR_ENTRY_RANGE;
        /* Pairwise: at most GPT_MAX_ENTRIES_BYTES / 128 = 512 entries. */
        for (uint32_t j = 0; j < i; j++) {
            const uint8_t *o = base + (size_t)j * h->entry_size;
            if (gpt_guid_is_zero(o + ENT_TYPE_GUID))
                continue;
            uint64_t of, ol;
            entry_range(o, &of, &ol);
            if (first <= ol && of <= last)
                return GPT_ERR_ENTRY_OVERLAP;
        }
    }
    return GPT_OK;
}

/* One header (primary or backup) and its array; the array lands after the sector. */
static gpt_error_t try_header(const gpt_disk_t *disk, uint64_t lba, uint8_t *scratch,
                              size_t scratch_size, gpt_table_t *out)
{
    if (disk->read(disk->ctx, lba, 1, scratch) < 0)
        return GPT_ERR_IO;
    gpt_header_t h;
    gpt_error_t err = gpt_parse_header(scratch, disk->sector_size, lba, disk->sector_count, &h);
    if (err != GPT_OK)
        return err;
    uint64_t n = entry_sectors(&h, disk->sector_size);
    if (disk->sector_size + n * disk->sector_size > scratch_size)
        return GPT_ERR_ARGUMENT;
    uint8_t *array = scratch + disk->sector_size;
    if (n && disk->read(disk->ctx, h.entries_lba, (uint32_t)n, array) < 0)
        return GPT_ERR_IO;
    err = gpt_check_entries(&h, array, (size_t)(n * disk->sector_size));
    if (err != GPT_OK)
        return err;
    out->header = h;
    out->entries = array;
    out->entries_size = (size_t)h.entry_count * h.entry_size;
    return GPT_OK;
}

gpt_error_t gpt_read_table(const gpt_disk_t *disk, void *scratch, size_t scratch_size,
                           gpt_table_t *out)
{
    uint32_t ss = disk->sector_size;
    if (ss < GPT_MIN_SECTOR_SIZE || ss > GPT_MAX_SECTOR_SIZE || (ss & (ss - 1)) != 0 ||
        disk->sector_count < 3 || scratch_size < ss)
        return GPT_ERR_ARGUMENT;
    uint8_t *buf = scratch;
    if (disk->read(disk->ctx, 0, 1, buf) < 0)
        return GPT_ERR_IO;
    gpt_error_t err = gpt_check_protective_mbr(buf, ss);
    if (err != GPT_OK)
        return err;
    out->from_backup = false;
    out->primary_error = try_header(disk, 1, buf, scratch_size, out);
    if (out->primary_error == GPT_OK)
        return GPT_OK;
    /* §5.3.2: with a bad primary, the backup at the last LBA is authoritative. */
    if (try_header(disk, disk->sector_count - 1, buf, scratch_size, out) != GPT_OK)
        return out->primary_error;
    out->from_backup = true;
    return GPT_OK;
}

size_t gpt_utf16le_to_utf8(const uint8_t *in, size_t units, char *out, size_t out_size)
{
    size_t n = 0;
    if (!out_size)
        return 0;
    for (size_t i = 0; i < units; i++) {
        uint32_t c = (uint32_t)in[2 * i] | (uint32_t)in[2 * i + 1] << 8;
        if (c == 0)
            break;
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < units) {
            uint32_t lo = (uint32_t)in[2 * i + 2] | (uint32_t)in[2 * i + 3] << 8;
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                i++;
            }
        }
        if (c >= 0xd800 && c <= 0xdfff)
            c = 0xfffd; /* an unpaired surrogate */
        uint8_t enc[4];
        size_t len;
        if (c < 0x80) {
            enc[0] = (uint8_t)c;
            len = 1;
        } else if (c < 0x800) {
            enc[0] = (uint8_t)(0xc0 | c >> 6);
            enc[1] = (uint8_t)(0x80 | (c & 0x3f));
            len = 2;
        } else if (c < 0x10000) {
            enc[0] = (uint8_t)(0xe0 | c >> 12);
            enc[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
            enc[2] = (uint8_t)(0x80 | (c & 0x3f));
            len = 3;
        } else {
            enc[0] = (uint8_t)(0xf0 | c >> 18);
            enc[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3f));
            enc[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
            enc[3] = (uint8_t)(0x80 | (c & 0x3f));
            len = 4;
        }
        if (n + len >= out_size)
            break; /* never a cut character */
        copy_bytes(out + n, enc, len);
        n += len;
    }
    out[n] = '\0';
    return n;
}

gpt_error_t gpt_entry_get(const gpt_table_t *t, uint32_t index, gpt_partition_t *out)
{
    if (index >= t->header.entry_count)
        return GPT_ERR_ARGUMENT;
    const uint8_t *e = t->entries + (size_t)index * t->header.entry_size;
    if (gpt_guid_is_zero(e + ENT_TYPE_GUID))
        return GPT_EMPTY;
    copy_bytes(out->type_guid, e + ENT_TYPE_GUID, 16);
    copy_bytes(out->partition_guid, e + ENT_PART_GUID, 16);
    entry_range(e, &out->first_lba, &out->last_lba);
    out->attributes = le64(e + ENT_ATTRIBUTES);
    gpt_utf16le_to_utf8(e + ENT_NAME, GPT_NAME_UNITS, out->name, sizeof(out->name));
    return GPT_OK;
}

void gpt_guid_format(const uint8_t g[16], char out[GPT_GUID_STRING_SIZE])
{
    /* The first three fields are little-endian, the last two are byte strings. */
    static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[n++] = '-';
        out[n++] = hex[g[order[i]] >> 4];
        out[n++] = hex[g[order[i]] & 15];
    }
    out[n] = '\0';
}

const char *gpt_error_string(gpt_error_t err)
{
    static const char *const names[GPT_ERR_COUNT_] = {
        [GPT_OK] = "ok",
        [GPT_EMPTY] = "unused entry",
        [GPT_ERR_IO] = "read error",
        [GPT_ERR_ARGUMENT] = "bad sector size, disk size or buffer",
        [GPT_ERR_NO_PROTECTIVE_MBR] = "no protective MBR",
        [GPT_ERR_SIGNATURE] = "no GPT signature",
        [GPT_ERR_REVISION] = "unknown GPT revision",
        [GPT_ERR_HEADER_SIZE] = "bad header size",
        [GPT_ERR_HEADER_CRC] = "header CRC32 mismatch",
        [GPT_ERR_HEADER_LBA] = "header MyLBA is not its own LBA",
        [GPT_ERR_USABLE_RANGE] = "bad usable LBA range",
        [GPT_ERR_ENTRY_SIZE] = "bad partition entry size",
        [GPT_ERR_ENTRIES_TOO_LARGE] = "partition entry array too large",
        [GPT_ERR_ENTRIES_LOCATION] = "partition entry array misplaced",
        [GPT_ERR_ENTRIES_CRC] = "partition entry array CRC32 mismatch",
        [GPT_ERR_ENTRY_RANGE] = "partition outside the usable range",
        [GPT_ERR_ENTRY_OVERLAP] = "overlapping partitions",
    };
    return (unsigned)err < GPT_ERR_COUNT_ && names[err] ? names[err] : "unknown error";
}
