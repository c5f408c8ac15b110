/* SPDX-License-Identifier: MIT */
/*
 * GUID Partition Tables (UEFI 2.10, chapter 5.3 "GUID Partition Table (GPT) Disk
 * Layout"): validation of untrusted on-disk structures and the partition entries they
 * describe. Pure logic over a caller-supplied sector reader, so the kernel, the host
 * tests and the fuzzer run the same code.
 *
 * gpt_read_table checks, in order: the protective MBR (0x55AA and a partition record of
 * type 0xEE), the primary header at LBA 1 (signature, revision 1.x, size, CRC32 with
 * the CRC field zeroed, MyLBA, usable range inside the disk, entry size 128 * 2^n, array
 * size bounded by GPT_MAX_ENTRIES_BYTES, array outside the usable range), then the entry
 * array's CRC32 and every used entry (range inside the usable range, no overlaps). When
 * the primary header or its array fails, the backup header at the disk's last LBA is
 * tried the same way. Nothing is trusted before it is checked; a bad table is an error
 * code, never a fault.
 */
#ifndef SRC_LIB_GPT_H
#define SRC_LIB_GPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GPT_HEADER_MIN_SIZE   92u
#define GPT_ENTRY_MIN_SIZE    128u
#define GPT_NAME_UNITS        36u   /* UTF-16 code units in an entry's name */
#define GPT_NAME_UTF8_MAX     (GPT_NAME_UNITS * 3u + 1u) /* worst case, NUL included */
#define GPT_GUID_STRING_SIZE  37u   /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" + NUL */
/* The largest entry array accepted. The spec's minimum is 16 KiB (128 entries of 128
 * bytes); anything over this is refused as implausible rather than read. */
#define GPT_MAX_ENTRIES_BYTES (64u * 1024u)
#define GPT_MIN_SECTOR_SIZE   512u
#define GPT_MAX_SECTOR_SIZE   4096u
/* What gpt_read_table needs as scratch: one sector plus the largest entry array. */
#define GPT_SCRATCH_BYTES     (GPT_MAX_SECTOR_SIZE + GPT_MAX_ENTRIES_BYTES)

typedef enum {
    GPT_OK = 0,
    GPT_EMPTY,                 /* gpt_entry_get: an unused entry (type GUID all zero) */
    GPT_ERR_IO,                /* the reader failed */
    GPT_ERR_ARGUMENT,          /* sector size, disk size or scratch size unusable */
    GPT_ERR_NO_PROTECTIVE_MBR, /* no 0x55AA or no 0xEE partition record */
    GPT_ERR_SIGNATURE,         /* not "EFI PART" */
    GPT_ERR_REVISION,
    GPT_ERR_HEADER_SIZE,
    GPT_ERR_HEADER_CRC,
    GPT_ERR_HEADER_LBA,        /* MyLBA is not where the header was read */
    GPT_ERR_USABLE_RANGE,      /* usable LBAs empty, reversed or beyond the disk */
    GPT_ERR_ENTRY_SIZE,        /* not 128 * 2^n */
    GPT_ERR_ENTRIES_TOO_LARGE, /* over GPT_MAX_ENTRIES_BYTES */
    GPT_ERR_ENTRIES_LOCATION,  /* array beyond the disk or inside the usable range */
    GPT_ERR_ENTRIES_CRC,
    GPT_ERR_ENTRY_RANGE,       /* a partition reversed or outside the usable range */
    GPT_ERR_ENTRY_OVERLAP,     /* two partitions share sectors */
    GPT_ERR_COUNT_             /* number of codes; keep last */
} gpt_error_t;

typedef struct {
    uint64_t my_lba, alternate_lba;
    uint64_t first_usable_lba, last_usable_lba;
    uint8_t  disk_guid[16];
    uint64_t entries_lba;
    uint32_t entry_count, entry_size, entries_crc32;
} gpt_header_t;

typedef struct {
    uint8_t  type_guid[16];
    uint8_t  partition_guid[16];
    uint64_t first_lba, last_lba; /* inclusive */
    uint64_t attributes;
    char     name[GPT_NAME_UTF8_MAX]; /* UTF-8, NUL-terminated */
} gpt_partition_t;

/* Reads count sectors starting at lba into buf; 0 on success, negative on failure. */
typedef int (*gpt_read_fn)(void *ctx, uint64_t lba, uint32_t count, void *buf);

typedef struct {
    uint32_t    sector_size;  /* power of two, GPT_MIN_SECTOR_SIZE..GPT_MAX_SECTOR_SIZE */
    uint64_t    sector_count;
    gpt_read_fn read;
    void       *ctx;
} gpt_disk_t;

typedef struct {
    gpt_header_t   header;
    bool           from_backup;   /* the primary was bad; primary_error says why */
    gpt_error_t    primary_error;
    const uint8_t *entries;       /* the checked entry array, inside the caller's scratch */
    size_t         entries_size;  /* entry_count * entry_size */
} gpt_table_t;

/* Finds and checks the table. scratch must hold GPT_SCRATCH_BYTES (or at least one
 * sector plus the array rounded up to sectors). On GPT_OK, out describes a table whose
 * entries gpt_entry_get may read. On an error from both headers, the primary's error
 * is returned (it is the more telling one). */
gpt_error_t gpt_read_table(const gpt_disk_t *disk, void *scratch, size_t scratch_size,
                           gpt_table_t *out);

/* Entry `index` (< header.entry_count) of a table gpt_read_table accepted: GPT_OK,
 * GPT_EMPTY for an unused slot. */
gpt_error_t gpt_entry_get(const gpt_table_t *table, uint32_t index, gpt_partition_t *out);

/* The pieces, for callers that hold sectors already (and for tests). */
gpt_error_t gpt_check_protective_mbr(const void *sector0, size_t size);
gpt_error_t gpt_parse_header(const void *sector, uint32_t sector_size, uint64_t lba,
                             uint64_t disk_sectors, gpt_header_t *out);
gpt_error_t gpt_check_entries(const gpt_header_t *header, const void *entries, size_t size);

/* Mixed-endian textual GUID, lower case, as UEFI and Linux print them. */
void gpt_guid_format(const uint8_t guid[16], char out[GPT_GUID_STRING_SIZE]);
bool gpt_guid_is_zero(const uint8_t guid[16]);
/* UTF-16LE (units code units, stopping at a NUL unit) to NUL-terminated UTF-8; unpaired
 * surrogates become U+FFFD. Never writes more than out_size bytes; returns the length. */
size_t gpt_utf16le_to_utf8(const uint8_t *utf16le, size_t units, char *out, size_t out_size);

const char *gpt_error_string(gpt_error_t err);

#endif
