/* SPDX-License-Identifier: MIT */
/*
 * vk_api(): finds the vk_api_t the kernel passed in the auxiliary vector.
 *
 * musl's getauxval() returns 0 and sets ENOENT for a missing entry; the caller of
 * vk_api() only wants NULL, so errno is restored. The table is not validated here:
 * callers check its size before using an entry newer than their baseline.
 */
#include <errno.h>
#include <string.h>
#include <sys/auxv.h>
#include <vk/libvk.h>

vk_api_t *vk_api(void)
{
    int saved_errno = errno;
    unsigned long address = getauxval(AT_VK_API);

    errno = saved_errno;
    return (vk_api_t *)address;
}

uint32_t vk_api_version(void)
{
    const vk_api_t *api = vk_api();

    if (!api)
        return 0;
#ifdef VK_API_STUB_H
    /*
     * The stub leaves vk_api_t opaque: read the revision where vk.h's EFI-shaped header
     * keeps it, after the 64-bit signature. FIXME: drop with the stub.
     */
    uint32_t revision;
    memcpy(&revision, (const char *)api + sizeof(uint64_t), sizeof(revision));
    return revision;
#else
    return api->header.revision;
#endif
}
