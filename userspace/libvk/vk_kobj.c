/* SPDX-License-Identifier: MIT */
/*
 * Client side of the KObj JSON RPC (docs/kobj.md), shared by vkobj and the shell.
 *
 * Requests are built here with the path quoted as a JSON string; replies are the kernel's
 * own JSON, so reading them needs no general parser: a flat "key":"value" search finds
 * the error class and message, the value after "value": is one JSON scalar, and a list's
 * children are the {"name":..,"type":..} objects in order. Nothing here validates the
 * reply beyond that.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <vk/libvk.h>

size_t vk_kobj_quote(char *out, size_t at, size_t size, const char *s)
{
    at += (size_t)snprintf(out + at, at < size ? size - at : 0, "\"");
    for (; *s && at + 8 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            at += (size_t)snprintf(out + at, size - at, "\\%c", c);
        else if (c < 0x20)
            at += (size_t)snprintf(out + at, size - at, "\\u%04x", c);
        else
            out[at++] = (char)c;
    }
    return at + (size_t)snprintf(out + at, at < size ? size - at : 0, "\"");
}

long vk_kobj_call(const char *request, char *reply, size_t reply_size)
{
    vk_api_t *api = vk_api();
#ifdef VK_API_STUB_H
    (void)api; (void)request; (void)reply; (void)reply_size;
    return -ENOSYS;
#else
    if (!api || api->header.size < offsetof(vk_api_t, kobj_rpc) + sizeof(api->kobj_rpc))
        return -ENOSYS;
    if (reply_size)
        reply[0] = 0;
    return api->kobj_rpc(request, strlen(request), reply, reply_size);
#endif
}

long vk_kobj_op(const char *op, const char *path, char *reply, size_t reply_size)
{
    char request[VK_KOBJ_REQUEST_MAX];
    size_t at = (size_t)snprintf(request, sizeof(request), "{\"op\":\"%s\",\"path\":", op);
    at = vk_kobj_quote(request, at, sizeof(request) - 2, path);
    if (at + 2 > sizeof(request))
        return -E2BIG;
    strcpy(request + at, "}");
    return vk_kobj_call(request, reply, reply_size);
}

/* -?[0-9]+: what may go into the request as a JSON number as it is. */
static int is_integer(const char *s)
{
    s += *s == '-';
    return *s && strspn(s, "0123456789") == strlen(s);
}

long vk_kobj_set(const char *path, const char *value, char *reply, size_t reply_size)
{
    /* int, uint and bool nodes take JSON literals, the rest strings: ask first. */
    char type[16] = "";
    if (vk_kobj_op("describe", path, reply, reply_size) >= 0)
        vk_kobj_field(reply, "type", type, sizeof(type));
    int literal = (!strcmp(type, "bool") && (!strcmp(value, "true") || !strcmp(value, "false"))) ||
                  ((!strcmp(type, "int") || !strcmp(type, "uint")) && is_integer(value));
    char request[VK_KOBJ_REQUEST_MAX];
    size_t at = (size_t)snprintf(request, sizeof(request), "{\"op\":\"set\",\"path\":");
    at = vk_kobj_quote(request, at, sizeof(request), path);
    at += (size_t)snprintf(request + at, at < sizeof(request) ? sizeof(request) - at : 0, ",\"value\":");
    if (literal && at + strlen(value) + 2 < sizeof(request))
        at += (size_t)snprintf(request + at, sizeof(request) - at, "%s", value);
    else
        at = vk_kobj_quote(request, at, sizeof(request), value);
    at += (size_t)snprintf(request + at, at < sizeof(request) ? sizeof(request) - at : 0, "}");
    if (at >= sizeof(request))
        return -E2BIG;
    return vk_kobj_call(request, reply, reply_size);
}

const char *vk_kobj_field(const char *json, const char *key, char *out, size_t size)
{
    char pattern[64];
    snprintf(pattern, sizeof(pattern), "\"%s\":\"", key);
    const char *p = strstr(json, pattern);
    if (!p || !size)
        return NULL;
    p += strlen(pattern);
    size_t n = 0;
    while (p[n] && p[n] != '"' && n + 1 < size)
        n++;
    memcpy(out, p, n);
    out[n] = 0;
    return out;
}

const char *vk_kobj_value(const char *json, char *out, size_t size)
{
    const char *v = strstr(json, "\"value\":");
    if (!v || !size)
        return NULL;
    v += 8;
    size_t n = 0;
    if (*v == '"') {
        /* Unescape the common cases; the reply is the kernel's own JSON. */
        for (v++; *v && *v != '"' && n + 1 < size; v++) {
            if (*v == '\\' && v[1]) {
                v++;
                out[n++] = *v == 'n' ? '\n' : *v == 't' ? '\t' : *v;
            } else {
                out[n++] = *v;
            }
        }
    } else {
        n = strcspn(v, ",}");
        if (n >= size)
            n = size - 1;
        memcpy(out, v, n);
    }
    out[n] = 0;
    return out;
}

const char *vk_kobj_next_child(const char *p, char *name, size_t name_size, char *type,
                               size_t type_size)
{
    p = strstr(p, "{\"name\":\"");
    if (!p)
        return NULL;
    vk_kobj_field(p, "name", name, name_size);
    if (!vk_kobj_field(p, "type", type, type_size) && type_size)
        type[0] = 0;
    return p + 9;
}
