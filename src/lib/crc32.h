/* SPDX-License-Identifier: MIT */
/*
 * CRC-32 as used by GPT, zlib, PNG and Ethernet: polynomial 0x04C11DB7 in its reflected
 * form 0xEDB88320, initial value and final XOR 0xFFFFFFFF (UEFI 2.10, §4.2 "the CRC32
 * algorithm"). Pure logic, no state: safe anywhere.
 */
#ifndef SRC_LIB_CRC32_H
#define SRC_LIB_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of `size` bytes. */
uint32_t crc32_compute(const void *data, size_t size);
/* Continues a CRC: crc32_update(crc32_compute(a), b) is the CRC of a followed by b. */
uint32_t crc32_update(uint32_t crc, const void *data, size_t size);

#endif
