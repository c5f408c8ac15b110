/* SPDX-License-Identifier: MIT */
/*
 * CRC-32, four bits at a time: a 16-entry table keeps it small enough for the loader
 * and fast enough for partition tables (a 16 KiB entry array is 32 Ki table steps).
 */
#include "lib/crc32.h"

/* crc32_nibble[i]: what four rounds of the reflected polynomial make of a register
 * whose low nibble is i and whose other bits are zero. */
static const uint32_t crc32_nibble[16] = {
    0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
    0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
    0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
};

uint32_t crc32_update(uint32_t crc, const void *data, size_t size)
{
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < size; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ crc32_nibble[crc & 15];
        crc = (crc >> 4) ^ crc32_nibble[crc & 15];
    }
    return ~crc;
}

uint32_t crc32_compute(const void *data, size_t size)
{
    return crc32_update(0, data, size);
}
