#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes small GPT disks into tests/host/corpus/fuzz_gpt/ as fuzzer seeds.

The sgdisk-made seeds are 64 KiB disks with the usual 128-entry array; `make fuzz`
runs fuzz_gpt with -max_len=16384 (a 16 KiB entry array costs a CRC pass per header,
which made every execution slow), so it needs seeds that fit: 24-sector disks with an
8-entry array, laid out as UEFI 2.10 chapter 5 describes. Run once; the output is
committed.
Usage: scripts/make-gpt-seeds.py
"""
import os
import struct
import uuid
import zlib

SECTOR = 512
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "host", "corpus", "fuzz_gpt")
ESP = uuid.UUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b")
DATA = uuid.UUID("ebd0a0a2-b9e5-4433-87c0-68b6b72699c7")


def entry(type_guid, first, last, name):
    raw = name.encode("utf-16-le")[:72]
    return struct.pack("<16s16sQQQ72s", type_guid.bytes_le,
                       uuid.uuid5(uuid.NAMESPACE_DNS, name).bytes_le, first, last, 0, raw)


def header(my_lba, alt_lba, first, last, entries_lba, count, size, array_crc):
    fields = [b"EFI PART", 0x00010000, 92, 0, 0, my_lba, alt_lba, first, last,
              uuid.UUID("5ad3c0de-0000-4000-8000-000000000001").bytes_le,
              entries_lba, count, size, array_crc]
    h = struct.pack("<8sIIIIQQQQ16sQIII", *fields)
    fields[3] = zlib.crc32(h)
    return struct.pack("<8sIIIIQQQQ16sQIII", *fields).ljust(SECTOR, b"\0")


def disk(sectors, count, parts, odd_first_byte=False, break_primary=False):
    array = b"".join(entry(*p) for p in parts).ljust(count * 128, b"\0")
    array_sectors = (len(array) + SECTOR - 1) // SECTOR
    first, last = 2 + array_sectors, sectors - 2 - array_sectors
    img = bytearray(sectors * SECTOR)
    # Protective MBR: one record of type 0xEE covering the disk.
    img[446:462] = struct.pack("<BBBBBBBBII", 0, 0, 2, 0, 0xEE, 0xff, 0xff, 0xff, 1,
                               sectors - 1)
    img[510:512] = b"\x55\xaa"
    if odd_first_byte:
        img[0] = 1
    crc = zlib.crc32(array)
    img[SECTOR:2 * SECTOR] = header(1, sectors - 1, first, last, 2, count, 128, crc)
    img[2 * SECTOR:2 * SECTOR + len(array)] = array
    backup_array = sectors - 1 - array_sectors
    img[backup_array * SECTOR:backup_array * SECTOR + len(array)] = array
    img[(sectors - 1) * SECTOR:] = header(sectors - 1, 1, first, last, backup_array, count,
                                          128, crc)
    if break_primary:
        img[SECTOR + 24] ^= 0xff  # the primary header's CRC: the backup must be used
    return bytes(img)


def main():
    parts = [(ESP, 4, 9, "EFI system"), (DATA, 10, 19, "vkernel data")]
    seeds = {
        "small_two_partitions": disk(24, 8, parts),
        "small_reseal_flag": disk(24, 8, parts, odd_first_byte=True),
        "small_primary_crc_bad": disk(24, 8, parts, break_primary=True),
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
