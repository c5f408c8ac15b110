/* SPDX-License-Identifier: MIT */
/* Host tests of src/lib/gpt.c and src/lib/crc32.c: a table built here the way sgdisk
 * lays one out, then one corruption per rejection path, the backup-header fallback,
 * GUID formatting and the UTF-16 name conversion. */
#include "htest.h"
#include "../../src/lib/crc32.c"
#include "../../src/lib/gpt.c"

#define SS       512u
#define SECTORS  256u  /* a 128 KiB disk */
#define ENTRIES  128u
#define ARRAY_SECTORS (ENTRIES * 128u / SS) /* 32 */

static uint8_t disk[SECTORS * SS];
static uint8_t scratch[GPT_SCRATCH_BYTES];
static int reads_failing_at = -1; /* an LBA whose read fails, or -1 */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static int disk_read(void *ctx, uint64_t lba, uint32_t count, void *buf)
{
    (void)ctx;
    if (lba + count > SECTORS || lba + count < lba)
        return -1;
    if (reads_failing_at >= 0 && (uint64_t)reads_failing_at >= lba &&
        (uint64_t)reads_failing_at < lba + count)
        return -1;
    memcpy(buf, disk + lba * SS, (size_t)count * SS);
    return 0;
}

static const gpt_disk_t the_disk = { SS, SECTORS, disk_read, NULL };

/* The EFI System Partition type, C12A7328-F81F-11D2-BA4B-00A0C93EC93B, on disk. */
static const uint8_t esp_type[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
                                      0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };

/* The header's own CRC only. */
static void seal_header_crc(uint64_t lba)
{
    uint8_t *h = disk + lba * SS;
    put32(h + HDR_CRC32, 0);
    put32(h + HDR_CRC32, crc32_compute(h, le32(h + HDR_SIZE)));
}

/* The array's CRC (from the header's sane fields), then the header's. */
static void seal_header(uint64_t lba)
{
    uint8_t *h = disk + lba * SS;
    put32(h + HDR_ENTRIES_CRC32, crc32_compute(disk + le64(h + HDR_ENTRIES_LBA) * SS,
                                               le32(h + HDR_ENTRY_COUNT) * le32(h + HDR_ENTRY_SIZE)));
    seal_header_crc(lba);
}

static void write_header(uint64_t lba, uint64_t alternate, uint64_t entries_lba)
{
    uint8_t *h = disk + lba * SS;
    memcpy(h, "EFI PART", 8);
    put32(h + HDR_REVISION, 0x00010000);
    put32(h + HDR_SIZE, 92);
    put64(h + HDR_MY_LBA, lba);
    put64(h + HDR_ALTERNATE_LBA, alternate);
    put64(h + HDR_FIRST_USABLE, 34);
    put64(h + HDR_LAST_USABLE, SECTORS - 34);
    for (int i = 0; i < 16; i++)
        h[HDR_DISK_GUID + i] = (uint8_t)(0xa0 + i);
    put64(h + HDR_ENTRIES_LBA, entries_lba);
    put32(h + HDR_ENTRY_COUNT, ENTRIES);
    put32(h + HDR_ENTRY_SIZE, 128);
    seal_header(lba);
}

static void set_entry(uint64_t array_lba, unsigned i, uint64_t first, uint64_t last, const char *name)
{
    uint8_t *e = disk + array_lba * SS + i * 128;
    memcpy(e + ENT_TYPE_GUID, esp_type, 16);
    for (int k = 0; k < 16; k++)
        e[ENT_PART_GUID + k] = (uint8_t)(i * 16 + k + 1);
    put64(e + ENT_FIRST_LBA, first);
    put64(e + ENT_LAST_LBA, last);
    for (size_t k = 0; name[k] && k < GPT_NAME_UNITS; k++)
        e[ENT_NAME + 2 * k] = (uint8_t)name[k];
}

/* Protective MBR, primary at 1 with its array at 2, backup array at SECTORS-33 and
 * backup header at SECTORS-1; two partitions, 34..99 and 100..SECTORS-34. */
static void build_disk(void)
{
    memset(disk, 0, sizeof(disk));
    reads_failing_at = -1;
    disk[MBR_RECORDS + 4] = MBR_TYPE_GPT;
    put32(disk + MBR_RECORDS + 8, 1);
    put32(disk + MBR_RECORDS + 12, SECTORS - 1);
    disk[510] = 0x55;
    disk[511] = 0xaa;
    uint64_t backup_array = SECTORS - 1 - ARRAY_SECTORS;
    set_entry(2, 0, 34, 99, "EFI System");
    set_entry(2, 1, 100, SECTORS - 34, "vkernel data");
    memcpy(disk + backup_array * SS, disk + 2 * SS, ARRAY_SECTORS * SS);
    write_header(1, SECTORS - 1, 2);
    write_header(SECTORS - 1, 1, backup_array);
}

static gpt_error_t read_table(gpt_table_t *t)
{
    return gpt_read_table(&the_disk, scratch, sizeof(scratch), t);
}

HTEST(crc32_check_value)
{
    HTEST_EXPECT_EQ(crc32_compute("123456789", 9), 0xcbf43926u);
    HTEST_EXPECT_EQ(crc32_update(crc32_compute("1234", 4), "56789", 5), 0xcbf43926u);
    HTEST_EXPECT_EQ(crc32_compute("", 0), 0);
}

HTEST(accepts_good_table)
{
    build_disk();
    gpt_table_t t;
    HTEST_EXPECT_EQ(read_table(&t), GPT_OK);
    HTEST_EXPECT(!t.from_backup);
    HTEST_EXPECT_EQ(t.header.first_usable_lba, 34);
    HTEST_EXPECT_EQ(t.header.last_usable_lba, SECTORS - 34);
    HTEST_EXPECT_EQ(t.header.entry_count, ENTRIES);
    gpt_partition_t p;
    HTEST_EXPECT_EQ(gpt_entry_get(&t, 0, &p), GPT_OK);
    HTEST_EXPECT_EQ(p.first_lba, 34);
    HTEST_EXPECT_EQ(p.last_lba, 99);
    HTEST_EXPECT_STR(p.name, "EFI System");
    HTEST_EXPECT(memcmp(p.type_guid, esp_type, 16) == 0);
    HTEST_EXPECT_EQ(p.partition_guid[0], 1);
    HTEST_EXPECT_EQ(gpt_entry_get(&t, 1, &p), GPT_OK);
    HTEST_EXPECT_STR(p.name, "vkernel data");
    HTEST_EXPECT_EQ(p.last_lba, SECTORS - 34);
    HTEST_EXPECT_EQ(gpt_entry_get(&t, 2, &p), GPT_EMPTY);
    HTEST_EXPECT_EQ(gpt_entry_get(&t, ENTRIES, &p), GPT_ERR_ARGUMENT);
}

HTEST(rejects_missing_mbr_signature)
{
    build_disk();
    disk[511] = 0;
    gpt_table_t t;
    HTEST_EXPECT_EQ(read_table(&t), GPT_ERR_NO_PROTECTIVE_MBR);
}

HTEST(rejects_mbr_without_ee_record)
{
    build_disk();
    disk[MBR_RECORDS + 4] = 0x0c; /* FAT32 LBA: an MBR disk, not a GPT one */
    gpt_table_t t;
    HTEST_EXPECT_EQ(read_table(&t), GPT_ERR_NO_PROTECTIVE_MBR);
}

HTEST(accepts_hybrid_mbr)
{
    build_disk();
    disk[MBR_RECORDS + 4] = 0x0c;
    disk[MBR_RECORDS + 16 + 4] = MBR_TYPE_GPT;
    gpt_table_t t;
    HTEST_EXPECT_EQ(read_table(&t), GPT_OK);
}

/* Corrupting only the primary falls back to the backup; corrupting both fails with the
 * primary's reason. */
static void expect_primary_error(gpt_error_t want)
{
    gpt_table_t t;
    HTEST_EXPECT_EQ(read_table(&t), GPT_OK);
    HTEST_EXPECT(t.from_backup);
    HTEST_EXPECT_EQ(t.primary_error, want);
    HTEST_EXPECT_EQ(t.header.my_lba, SECTORS - 1);
    gpt_partition_t p;
    HTEST_EXPECT_EQ(gpt_entry_get(&t, 1, &p), GPT_OK);
    HTEST_EXPECT_STR(p.name, "vkernel data");
    disk[(SECTORS - 1) * SS] = 'X'; /* now the backup's signature too */
    HTEST_EXPECT_EQ(read_table(&t), want);
}

HTEST(header_crc_mismatch_uses_backup)
{
    build_disk();
    disk[SS + HDR_FIRST_USABLE] ^= 1; /* any field, CRC not resealed */
    expect_primary_error(GPT_ERR_HEADER_CRC);
}

HTEST(bad_signature_uses_backup)
{
    build_disk();
    disk[SS] = 'X';
    expect_primary_error(GPT_ERR_SIGNATURE);
}

HTEST(entries_crc_mismatch_uses_backup)
{
    build_disk();
    disk[2 * SS + ENT_NAME] ^= 0x20; /* a name byte in the primary array */
    expect_primary_error(GPT_ERR_ENTRIES_CRC);
}

HTEST(primary_read_error_uses_backup)
{
    build_disk();
    reads_failing_at = 1;
    expect_primary_error(GPT_ERR_IO);
}

/* A field changed and the header resealed, so only the semantic check can catch it. */
static void expect_resealed(unsigned offset, uint64_t value, int width, gpt_error_t want)
{
    build_disk();
    if (width == 4)
        put32(disk + SS + offset, (uint32_t)value);
    else
        put64(disk + SS + offset, value);
    if (offset != HDR_SIZE || value >= GPT_HEADER_MIN_SIZE)
        seal_header_crc(1);
    gpt_table_t t;
    HTEST_EXPECT_EQ(read_table(&t), GPT_OK);
    HTEST_EXPECT(t.from_backup);
    HTEST_EXPECT_EQ(t.primary_error, want);
}

HTEST(rejects_bad_header_fields)
{
    expect_resealed(HDR_REVISION, 0x00020000, 4, GPT_ERR_REVISION);
    expect_resealed(HDR_SIZE, 91, 4, GPT_ERR_HEADER_SIZE);
    expect_resealed(HDR_SIZE, SS + 1, 4, GPT_ERR_HEADER_SIZE);
    expect_resealed(HDR_MY_LBA, 2, 8, GPT_ERR_HEADER_LBA);
    expect_resealed(HDR_FIRST_USABLE, 1, 8, GPT_ERR_USABLE_RANGE);
    expect_resealed(HDR_LAST_USABLE, SECTORS, 8, GPT_ERR_USABLE_RANGE);
    expect_resealed(HDR_LAST_USABLE, 33, 8, GPT_ERR_USABLE_RANGE);
    expect_resealed(HDR_ENTRY_SIZE, 100, 4, GPT_ERR_ENTRY_SIZE);
    expect_resealed(HDR_ENTRY_SIZE, 384, 4, GPT_ERR_ENTRY_SIZE);
    expect_resealed(HDR_ENTRY_COUNT, 0xffffffffu, 4, GPT_ERR_ENTRIES_TOO_LARGE);
    expect_resealed(HDR_ENTRIES_LBA, SECTORS - 2, 8, GPT_ERR_ENTRIES_LOCATION);
    expect_resealed(HDR_ENTRIES_LBA, 40, 8, GPT_ERR_ENTRIES_LOCATION);  /* in usable space */
    expect_resealed(HDR_ENTRIES_LBA, 0, 8, GPT_ERR_ENTRIES_LOCATION);
    expect_resealed(HDR_ENTRIES_LBA, ~0ull, 8, GPT_ERR_ENTRIES_LOCATION); /* would wrap */
}

/* An entry changed in both arrays and both headers resealed: the table is consistent
 * but wrong, and must be refused as a whole. */
static void expect_bad_entry(unsigned index, uint64_t first, uint64_t last, gpt_error_t want)
{
    build_disk();
    uint64_t arrays[2] = { 2, SECTORS - 1 - ARRAY_SECTORS };
    for (int a = 0; a < 2; a++) {
        uint8_t *e = disk + arrays[a] * SS + index * 128;
        memcpy(e + ENT_TYPE_GUID, esp_type, 16);
        put64(e + ENT_FIRST_LBA, first);
        put64(e + ENT_LAST_LBA, last);
    }
    seal_header(1);
    seal_header(SECTORS - 1);
    gpt_table_t t;
    HTEST_EXPECT_EQ(read_table(&t), want);
}

HTEST(rejects_bad_entries)
{
    expect_bad_entry(5, 50, 40, GPT_ERR_ENTRY_RANGE);          /* reversed */
    expect_bad_entry(5, 10, 20, GPT_ERR_ENTRY_RANGE);          /* before usable */
    expect_bad_entry(5, 230, SECTORS - 33, GPT_ERR_ENTRY_RANGE); /* past usable */
    expect_bad_entry(5, 90, 110, GPT_ERR_ENTRY_OVERLAP);
    expect_bad_entry(1, 99, 99, GPT_ERR_ENTRY_OVERLAP);         /* one shared sector */
    expect_bad_entry(1, 100, 100, GPT_OK);                      /* adjacent is fine */
}

HTEST(rejects_bad_arguments)
{
    build_disk();
    gpt_table_t t;
    gpt_disk_t d = the_disk;
    d.sector_size = 520;
    HTEST_EXPECT_EQ(gpt_read_table(&d, scratch, sizeof(scratch), &t), GPT_ERR_ARGUMENT);
    d = the_disk;
    d.sector_count = 2;
    HTEST_EXPECT_EQ(gpt_read_table(&d, scratch, sizeof(scratch), &t), GPT_ERR_ARGUMENT);
    /* Scratch for the header but not the array: refused, nothing written past it. */
    HTEST_EXPECT_EQ(gpt_read_table(&the_disk, scratch, SS * 4, &t), GPT_ERR_ARGUMENT);
    reads_failing_at = 0;
    HTEST_EXPECT_EQ(read_table(&t), GPT_ERR_IO);
}

HTEST(guid_format_is_mixed_endian)
{
    char s[GPT_GUID_STRING_SIZE];
    gpt_guid_format(esp_type, s);
    HTEST_EXPECT_STR(s, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
    uint8_t zero[16] = { 0 };
    HTEST_EXPECT(gpt_guid_is_zero(zero));
    HTEST_EXPECT(!gpt_guid_is_zero(esp_type));
}

HTEST(utf16_names_become_utf8)
{
    char out[GPT_NAME_UTF8_MAX];
    /* "é€" then U+1F600 as a surrogate pair, then NUL. */
    const uint8_t mixed[] = { 0xe9, 0x00, 0xac, 0x20, 0x3d, 0xd8, 0x00, 0xde, 0, 0, 'x', 0 };
    HTEST_EXPECT_EQ(gpt_utf16le_to_utf8(mixed, 6, out, sizeof(out)), 9);
    HTEST_EXPECT_STR(out, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    /* An unpaired high surrogate, and a lone low one. */
    const uint8_t lone[] = { 0x3d, 0xd8, 'a', 0, 0x00, 0xde };
    gpt_utf16le_to_utf8(lone, 3, out, sizeof(out));
    HTEST_EXPECT_STR(out, "\xef\xbf\xbd" "a\xef\xbf\xbd");
    /* 36 three-byte characters fill the worst-case buffer exactly. */
    uint8_t wide[GPT_NAME_UNITS * 2];
    for (unsigned i = 0; i < GPT_NAME_UNITS; i++) {
        wide[2 * i] = 0xac;
        wide[2 * i + 1] = 0x20;
    }
    HTEST_EXPECT_EQ(gpt_utf16le_to_utf8(wide, GPT_NAME_UNITS, out, sizeof(out)), 108);
    /* A small buffer cuts between characters, never inside one. */
    HTEST_EXPECT_EQ(gpt_utf16le_to_utf8(wide, GPT_NAME_UNITS, out, 5), 3);
    HTEST_EXPECT_EQ(strlen(out), 3);
}

HTEST(error_strings_cover_every_code)
{
    for (int e = 0; e < GPT_ERR_COUNT_; e++)
        HTEST_EXPECT(strcmp(gpt_error_string((gpt_error_t)e), "unknown error") != 0);
    HTEST_EXPECT_STR(gpt_error_string(GPT_ERR_COUNT_), "unknown error");
}

HTEST_MAIN()
