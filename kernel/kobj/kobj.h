/* SPDX-License-Identifier: MIT */
/*
 * KObj: the typed kernel object tree. Subsystems publish nodes (a path, a type, access
 * flags, a unit and a one-line description) with callbacks that read and write the
 * live value; the tree is read through /kobj (kobjfs.c) and the JSON RPC
 * (vk_kobj_rpc, kobj_rpc.c). docs/kobj.md lists every node; it is generated from the
 * tables below by scripts/gen-kobj-doc.py, so a node's description is its documentation.
 *
 * Design notes:
 *  - Nodes live in the publisher's static tables (KOBJ_TABLE puts the table in the
 *    "kobj_tables" section; kobj_init links them all at boot). Nothing is ever removed,
 *    so walks take no lock; linking takes kobj's own spinlock.
 *  - A directory with an enumerate callback is dynamic: its children are made up on
 *    the fly (threads, devices, mounts), each with a name and a 64-bit key. Its one
 *    static child, named "*", is the template every dynamic child follows; the nodes
 *    below "*" get the key in their callbacks. One dynamic level per path.
 *  - Values never carry kernel addresses: getters report ids, names and counters.
 */
#ifndef KERNEL_KOBJ_KOBJ_H
#define KERNEL_KOBJ_KOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"

typedef enum {
    KOBJ_DIR = 1,
    KOBJ_INT,     /* int64_t */
    KOBJ_UINT,    /* uint64_t */
    KOBJ_BOOL,
    KOBJ_STRING,  /* text, no NUL */
    KOBJ_ENUM,    /* one of the node's choices, held as its index */
    KOBJ_BYTES,   /* binary; text form is lowercase hex */
    KOBJ_ACTION,  /* write-only: setting it (to anything) does something */
} kobj_type_t;

#define KOBJ_READ     1u
#define KOBJ_WRITE    2u
#define KOBJ_VOLATILE 4u /* changes by itself: do not cache */

typedef struct {
    int64_t i;       /* KOBJ_INT */
    uint64_t u;      /* KOBJ_UINT; KOBJ_BOOL (0 or 1); KOBJ_ENUM (index into choices) */
    size_t length;   /* KOBJ_STRING, KOBJ_BYTES: bytes of text */
    char text[CONFIG_KOBJ_VALUE_MAX];
} kobj_value_t;

typedef struct kobj_node kobj_node_t;

struct kobj_node {
    /* Filled by the publisher. */
    const char *path;         /* absolute; a "*" component is a dynamic dir's template */
    kobj_type_t type;
    uint32_t access;          /* KOBJ_READ | KOBJ_WRITE | KOBJ_VOLATILE */
    const char *unit;         /* "ns", "bytes", ... or NULL */
    const char *description;  /* one line */
    const char *const *choices; /* KOBJ_ENUM: the allowed values, NULL-terminated */
    unsigned field;           /* free for the callbacks: which field a shared getter reads */
    /* key: the dynamic child's key on the path (0 when there is none). 0 or -VK_E*. */
    int (*get)(const kobj_node_t *node, uint64_t key, kobj_value_t *out);
    /* in has been parsed and checked against the type and choices. */
    int (*set)(const kobj_node_t *node, uint64_t key, const kobj_value_t *in);
    /* Dynamic dirs: the child at position (0, 1, ...): its name and key; 0, or
     * -VK_ENOENT past the last one. Positions may skip nothing but can shift as things
     * come and go; a listing is a best-effort snapshot. */
    int (*enumerate)(uint64_t position, char *name, size_t name_size, uint64_t *key);
    /* Kept by kobj.c. */
    kobj_node_t *parent, *first_child, *next_sibling;
    uint32_t id;              /* small, stable number: inode numbers */
};

typedef struct {
    kobj_node_t *nodes;
    unsigned count;
} kobj_table_t;

/* Publishes a static table of nodes at boot (kobj_init links them, parents first). */
#define KOBJ_TABLE(name_)                                                              \
    static const kobj_table_t kobj_table_##name_                                       \
        __attribute__((used, section("kobj_tables"), aligned(8))) = {                  \
            name_, sizeof(name_) / sizeof(name_[0]) }

/* Where a path leads: a node and the key of the dynamic child on the way (if any). */
typedef struct {
    kobj_node_t *node;
    uint64_t key;
} kobj_ref_t;

/* Links every KOBJ_TABLE. Call once at boot, before anything reads the tree. */
void kobj_init(void);
/* Links nodes published after boot; each one's parent must exist (or come earlier in
 * the same table). 0, -VK_ENOENT (no parent), -VK_EEXIST or -VK_EINVAL (bad path). */
int kobj_publish(kobj_node_t *nodes, unsigned count);

kobj_ref_t kobj_root(void);
/* The child of dir called name. 0, -VK_ENOENT or -VK_ENOTDIR. */
int kobj_lookup(kobj_ref_t dir, const char *name, kobj_ref_t *out);
/* Resolves an absolute path ("/", "/mem/free", trailing slashes allowed). */
int kobj_resolve(const char *path, kobj_ref_t *out);
/* The child of dir at position: 0 with its name and ref, -VK_ENOENT past the end. */
int kobj_child(kobj_ref_t dir, uint64_t position, char *name, size_t name_size,
               kobj_ref_t *out);

/* The KObj-write right (kobj_right.c). The environment variable the kernel gives the
 * process it grants the right to, holding the handle's value. */
#define KOBJ_WRITE_ENV "VK_KOBJ_WRITE"
struct process;
/* Called by kobj_init. */
void kobj_right_init(void);
/* Installs a KObj-write handle in p (a process the kernel is starting) and writes
 * "VK_KOBJ_WRITE=<handle>" into env_entry[size]. The handle value, or a negative errno. */
long kobj_write_grant(struct process *p, char *env_entry, size_t size);
/* The calling process holds the right (or the caller is a kernel thread). */
bool kobj_write_allowed(void);

/* Reads a value: -VK_EISDIR for a dir, -VK_EACCES when not readable. */
int kobj_get(kobj_ref_t ref, kobj_value_t *out);
/* Writes a value that passed kobj_parse: -VK_EISDIR, -VK_EACCES when read-only,
 * -VK_EPERM without the KObj-write right, or what the setter says (-VK_EINVAL,
 * -VK_ERANGE). */
int kobj_set(kobj_ref_t ref, const kobj_value_t *in);

/* Text forms (kobj_value.c). kobj_format writes a value as text (no newline) into
 * buf[size], truncating; returns the full length. kobj_parse reads text[0..length) as
 * a value for the node's type: 0, -VK_EINVAL (malformed, not a choice) or -VK_ERANGE. */
size_t kobj_format(const kobj_node_t *node, const kobj_value_t *v, char *buf, size_t size);
int kobj_parse(const kobj_node_t *node, const char *text, size_t length, kobj_value_t *out);
/* "dir", "int", ... for describe and listings. */
const char *kobj_type_name(kobj_type_t type);
/* Sets a string value (truncated to fit). */
void kobj_value_string(kobj_value_t *v, const char *s);

/* The JSON RPC (kobj_rpc.c): answers request[0..length) into reply[reply_size] (NUL-
 * terminated). Returns the reply's length, or -VK_ERANGE when it does not fit. Every
 * bad request gets an error object, never a negative return. */
long kobj_rpc(const char *request, size_t length, char *reply, size_t reply_size);

/* The filesystem view (kobjfs.c): mounts the tree at path, read-mostly. */
int kobjfs_mount(const char *path);

#endif
