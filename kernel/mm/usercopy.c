/* SPDX-License-Identifier: MIT */
/*
 * Checked copies between kernel and user memory (interface in mm/usercopy.h; the
 * faulting instructions live in usercopy_copy.S).
 *
 * Design notes:
 *   - The range check runs before any access: a kernel-half or non-canonical pointer
 *     would otherwise reach kernel memory or raise #GP, which no fixup should need to
 *     cover. Addresses below CONFIG_USER_MIN_ADDR pass the check and simply fault.
 *   - stac/clac only when the CPU has SMAP: on other CPUs they raise #UD.
 *   - FIXME: the interrupt entry (arch/x86_64/isr.S) should clac, so an interrupt taken
 *     in the middle of a copy does not run with SMAP open.
 */
#include "mm/usercopy.h"
#include "mm/aspace.h"
#include "core/string.h"

extern const char usercopy_text_start[], usercopy_text_end[];
uint64_t usercopy_raw_copy(void *dst, const void *src, uint64_t len);
uint64_t usercopy_raw_clear(void *dst, uint64_t len);
int64_t usercopy_raw_strncpy(char *dst, const char *src, uint64_t max);

static bool range_ok(uint64_t addr, size_t len)
{
    return addr < ASPACE_USER_LIMIT && len <= ASPACE_USER_LIMIT - addr;
}

static void user_access_begin(void)
{
    if (arch_features()->smap)
        __asm__ volatile("stac" ::: "memory");
}

static void user_access_end(void)
{
    if (arch_features()->smap)
        __asm__ volatile("clac" ::: "memory");
}

bool usercopy_owns_rip(uint64_t rip)
{
    return rip >= (uint64_t)usercopy_text_start && rip < (uint64_t)usercopy_text_end;
}

int usercopy_from(void *dst, uint64_t user_src, size_t len)
{
    if (len == 0)
        return 0;
    if (!range_ok(user_src, len)) {
        memset(dst, 0, len);
        return -VK_EFAULT;
    }
    user_access_begin();
    uint64_t left = usercopy_raw_copy(dst, (const void *)user_src, len);
    user_access_end();
    if (left) {
        memset((char *)dst + (len - left), 0, left);
        return -VK_EFAULT;
    }
    return 0;
}

int usercopy_to(uint64_t user_dst, const void *src, size_t len)
{
    if (len == 0)
        return 0;
    if (!range_ok(user_dst, len))
        return -VK_EFAULT;
    user_access_begin();
    uint64_t left = usercopy_raw_copy((void *)user_dst, src, len);
    user_access_end();
    return left ? -VK_EFAULT : 0;
}

int usercopy_clear(uint64_t user_dst, size_t len)
{
    if (len == 0)
        return 0;
    if (!range_ok(user_dst, len))
        return -VK_EFAULT;
    user_access_begin();
    uint64_t left = usercopy_raw_clear((void *)user_dst, len);
    user_access_end();
    return left ? -VK_EFAULT : 0;
}

long usercopy_strncpy_from(char *dst, uint64_t user_src, size_t max)
{
    if (max == 0)
        return -VK_ENAMETOOLONG;
    if (user_src >= ASPACE_USER_LIMIT)
        return -VK_EFAULT;
    /* Never read past the user limit: a string running into it is a fault. */
    size_t window = max;
    if (window > ASPACE_USER_LIMIT - user_src)
        window = ASPACE_USER_LIMIT - user_src;
    user_access_begin();
    int64_t n = usercopy_raw_strncpy(dst, (const char *)user_src, window);
    user_access_end();
    if (n < 0)
        return -VK_EFAULT;
    if ((size_t)n < window)
        return (long)n;
    if (window < max)
        return -VK_EFAULT;
    dst[max - 1] = '\0';
    return -VK_ENAMETOOLONG;
}
