/* SPDX-License-Identifier: MIT */
/*
 * The KObj tree (kobj.h): linking published nodes, the walk, and get/set with their
 * access checks. Values and their text forms are in kobj_value.c, the JSON RPC in
 * kobj_rpc.c, the filesystem view in kobjfs.c.
 *
 * Nodes are linked once and never unlinked, so readers walk the sibling lists without
 * a lock; publish_lock serialises writers, and a node is fully set up before the store
 * that makes it reachable (a release store).
 */
#include "kobj/kobj.h"
#include "core/log.h"
#include "core/spinlock.h"
#include "core/string.h"
#include <vk/errno.h>

static kobj_node_t root = {
    .path = "/", .type = KOBJ_DIR, .access = KOBJ_READ,
    .description = "The kernel object tree: every kernel fact a program may inspect",
};
static spinlock_t publish_lock;
static uint32_t next_id = 1; /* guarded by publish_lock; the root is 0 */

extern const kobj_table_t __start_kobj_tables[], __stop_kobj_tables[];

/* The last component of a node's path ("" for the root). */
static const char *node_name(const kobj_node_t *n)
{
    const char *slash = n->path;
    for (const char *p = n->path; *p; p++)
        if (*p == '/')
            slash = p;
    return slash + 1;
}

/* Compares name with the component at path[0..length). */
static bool name_is(const char *name, const char *component, size_t length)
{
    return strlen(name) == length && !strncmp(name, component, length);
}

static kobj_node_t *static_child(kobj_node_t *dir, const char *name, size_t length)
{
    for (kobj_node_t *c = __atomic_load_n(&dir->first_child, __ATOMIC_ACQUIRE); c;
         c = __atomic_load_n(&c->next_sibling, __ATOMIC_ACQUIRE))
        if (name_is(node_name(c), name, length))
            return c;
    return NULL;
}

/* The parent a node's path names, following "*" literally. NULL when missing. */
static kobj_node_t *find_parent(const char *path)
{
    kobj_node_t *n = &root;
    const char *p = path + 1;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (!slash)
            return n;
        n = static_child(n, p, (size_t)(slash - p));
        if (!n)
            return NULL;
        p = slash + 1;
    }
}

static bool path_valid(const char *path)
{
    if (!path || path[0] != '/' || !path[1])
        return false;
    size_t component = 0;
    for (const char *p = path + 1;; p++) {
        if (*p == '/' || !*p) {
            if (component == 0 || component >= CONFIG_KOBJ_NAME_MAX)
                return false;
            component = 0;
            if (!*p)
                return true;
        } else {
            component++;
        }
    }
}

static int link_node(kobj_node_t *n)
{
    if (!path_valid(n->path) || !n->description ||
        (n->type == KOBJ_ENUM && !n->choices))
        return -VK_EINVAL;
    kobj_node_t *parent = find_parent(n->path);
    if (!parent)
        return -VK_ENOENT;
    const char *name = node_name(n);
    bool star = !strcmp(name, "*");
    if (parent->type != KOBJ_DIR || star != (parent->enumerate != NULL))
        return -VK_EINVAL; /* "*" belongs under a dynamic dir, and only it does */
    if (static_child(parent, name, strlen(name)))
        return -VK_EEXIST;
    n->parent = parent;
    n->first_child = NULL;
    n->next_sibling = NULL;
    n->id = next_id++;
    kobj_node_t **tail = &parent->first_child;
    while (*tail)
        tail = &(*tail)->next_sibling;
    __atomic_store_n(tail, n, __ATOMIC_RELEASE); /* listings keep the table's order */
    return 0;
}

int kobj_publish(kobj_node_t *nodes, unsigned count)
{
    int err = 0;
    uint64_t f = spinlock_lock_irqsave(&publish_lock);
    for (unsigned i = 0; i < count && !err; i++)
        err = link_node(&nodes[i]);
    spinlock_unlock_irqrestore(&publish_lock, f);
    return err;
}

void kobj_init(void)
{
    /* Tables come in link order, so a child's table may come before its parent's:
     * retry the ones whose parent is missing until a pass links nothing more. */
    unsigned linked, failed;
    do {
        linked = failed = 0;
        for (const kobj_table_t *t = __start_kobj_tables; t < __stop_kobj_tables; t++) {
            for (unsigned i = 0; i < t->count; i++) {
                kobj_node_t *n = &t->nodes[i];
                if (n->parent)
                    continue;
                uint64_t f = spinlock_lock_irqsave(&publish_lock);
                int err = link_node(n);
                spinlock_unlock_irqrestore(&publish_lock, f);
                if (!err)
                    linked++;
                else
                    failed++;
            }
        }
    } while (linked && failed);
    for (const kobj_table_t *t = __start_kobj_tables; t < __stop_kobj_tables; t++)
        for (unsigned i = 0; i < t->count; i++)
            if (!t->nodes[i].parent)
                log_warn("kobj: node %s not published (bad path, missing parent or duplicate)",
                         t->nodes[i].path ? t->nodes[i].path : "(no path)");
    kobj_right_init();
    log_info("kobj: %u nodes", next_id);
}

kobj_ref_t kobj_root(void)
{
    return (kobj_ref_t){ &root, 0 };
}

static kobj_node_t *template_of(kobj_node_t *dir)
{
    return static_child(dir, "*", 1);
}

static int lookup_n(kobj_ref_t dir, const char *name, size_t length, kobj_ref_t *out)
{
    if (dir.node->type != KOBJ_DIR)
        return -VK_ENOTDIR;
    if (!dir.node->enumerate) {
        kobj_node_t *c = static_child(dir.node, name, length);
        if (!c)
            return -VK_ENOENT;
        *out = (kobj_ref_t){ c, dir.key };
        return 0;
    }
    kobj_node_t *tmpl = template_of(dir.node);
    char child[CONFIG_KOBJ_NAME_MAX];
    uint64_t key;
    for (uint64_t pos = 0; tmpl && dir.node->enumerate(pos, child, sizeof(child), &key) == 0;
         pos++) {
        if (name_is(child, name, length)) {
            *out = (kobj_ref_t){ tmpl, key };
            return 0;
        }
    }
    return -VK_ENOENT;
}

int kobj_lookup(kobj_ref_t dir, const char *name, kobj_ref_t *out)
{
    return lookup_n(dir, name, strlen(name), out);
}

int kobj_resolve(const char *path, kobj_ref_t *out)
{
    if (!path || path[0] != '/')
        return -VK_EINVAL;
    kobj_ref_t at = kobj_root();
    const char *p = path;
    for (;;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *end = p;
        while (*end && *end != '/')
            end++;
        int err = lookup_n(at, p, (size_t)(end - p), &at);
        if (err)
            return err;
        p = end;
    }
    *out = at;
    return 0;
}

int kobj_child(kobj_ref_t dir, uint64_t position, char *name, size_t name_size,
               kobj_ref_t *out)
{
    if (dir.node->type != KOBJ_DIR)
        return -VK_ENOTDIR;
    if (dir.node->enumerate) {
        kobj_node_t *tmpl = template_of(dir.node);
        uint64_t key;
        if (!tmpl || dir.node->enumerate(position, name, name_size, &key))
            return -VK_ENOENT;
        *out = (kobj_ref_t){ tmpl, key };
        return 0;
    }
    kobj_node_t *c = __atomic_load_n(&dir.node->first_child, __ATOMIC_ACQUIRE);
    for (; c && position; position--)
        c = __atomic_load_n(&c->next_sibling, __ATOMIC_ACQUIRE);
    if (!c)
        return -VK_ENOENT;
    strlcpy(name, node_name(c), name_size);
    *out = (kobj_ref_t){ c, dir.key };
    return 0;
}

int kobj_get(kobj_ref_t ref, kobj_value_t *out)
{
    if (ref.node->type == KOBJ_DIR)
        return -VK_EISDIR;
    if (!(ref.node->access & KOBJ_READ) || !ref.node->get)
        return -VK_EACCES;
    out->i = 0;
    out->u = 0;
    out->length = 0;
    out->text[0] = '\0';
    return ref.node->get(ref.node, ref.key, out);
}

int kobj_set(kobj_ref_t ref, const kobj_value_t *in)
{
    if (ref.node->type == KOBJ_DIR)
        return -VK_EISDIR;
    if (!(ref.node->access & KOBJ_WRITE) || !ref.node->set)
        return -VK_EACCES;
    if (!kobj_write_allowed())
        return -VK_EPERM; /* every writable node changes how the kernel behaves */
    return ref.node->set(ref.node, ref.key, in);
}
