/* SPDX-License-Identifier: MIT */
/*
 * libvk: the vkernel runtime library linked into vkernel programs (libvk.a, -lvk).
 * Installed in the sysroot as <vk/libvk.h>.
 *
 * The kernel hands every process its vk_api_t (include/vk/vk.h) through the auxiliary
 * vector entry AT_VK_API. On another kernel (a plain Linux host) the entry is absent:
 * vk_api() returns NULL and vk_api_version() 0, so programs can still run there.
 */
#ifndef VK_LIBVK_H
#define VK_LIBVK_H

#include <stddef.h>
#include <stdint.h>

#if __has_include(<vk/vk.h>)
#include <vk/vk.h>
#else
#include "vk_api_stub.h"
#endif

/* The process's vk_api_t, or NULL when not running on vkernel. Leaves errno alone. */
vk_api_t *vk_api(void);

/* The revision of that table (from its header), or 0 when there is none. */
uint32_t vk_api_version(void);

/*
 * KObj RPC client (vk_kobj.c, protocol in docs/kobj.md). The calls return the reply's
 * length or a negative errno: -ENOSYS off vkernel or on a kernel without the RPC,
 * -E2BIG for a request that does not fit VK_KOBJ_REQUEST_MAX.
 */
#define VK_KOBJ_REQUEST_MAX 4096
/* Sends one JSON request and writes the reply (NUL-terminated). */
long vk_kobj_call(const char *request, char *reply, size_t reply_size);
/* {"op":OP,"path":PATH}: get, list or describe. */
long vk_kobj_op(const char *op, const char *path, char *reply, size_t reply_size);
/* Sets PATH from text: numbers and booleans go as JSON literals when the node's type
 * (asked with describe first) takes them, everything else as a string. */
long vk_kobj_set(const char *path, const char *value, char *reply, size_t reply_size);
/* Appends s to out at offset at as a JSON string; returns the new offset. */
size_t vk_kobj_quote(char *out, size_t at, size_t size, const char *s);
/* The string member "key" of a reply (first occurrence) into out, or NULL. */
const char *vk_kobj_field(const char *json, const char *key, char *out, size_t size);
/* The reply's "value" as text (strings unquoted and unescaped), or NULL. */
const char *vk_kobj_value(const char *json, char *out, size_t size);
/* Iterates a list reply's children: call with the reply, then with the returned pointer,
 * until NULL. */
const char *vk_kobj_next_child(const char *p, char *name, size_t name_size, char *type,
                               size_t type_size);

#endif
