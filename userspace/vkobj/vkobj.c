/* SPDX-License-Identifier: MIT */
/*
 * vkobj: inspect and set the kernel object tree (docs/kobj.md) over the KObj RPC.
 *
 *   vkobj ls [--json] PATH          children of a directory
 *   vkobj get [--json] PATH         a value
 *   vkobj set [--json] PATH VALUE   set a value (VALUE is parsed for the node's type)
 *   vkobj describe [--json] PATH    type, access, unit, description, choices
 *
 * --json prints the kernel's reply as it came. Exit status: 0 success, 1 usage or
 * other failure, 2 not found, 3 bad value (wrong type, out of range), 4 permission
 * (read-only or not readable), 5 bad request.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vk/libvk.h>
#include <vk/syscall.h>

#define EXIT_NOT_FOUND   2
#define EXIT_BAD_VALUE   3
#define EXIT_PERMISSION  4
#define EXIT_BAD_REQUEST 5
#define REPLY_MAX (64 * 1024)

static char reply[REPLY_MAX];

static int exit_code(const char *error)
{
    if (!strcmp(error, "not_found"))
        return EXIT_NOT_FOUND;
    if (!strcmp(error, "wrong_type") || !strcmp(error, "out_of_range") ||
        !strcmp(error, "bad_value"))
        return EXIT_BAD_VALUE;
    if (!strcmp(error, "read_only") || !strcmp(error, "not_readable"))
        return EXIT_PERMISSION;
    if (!strcmp(error, "bad_request"))
        return EXIT_BAD_REQUEST;
    return 1;
}

/* Plain output: the value (strings unquoted), or each child's name. */
static void print_plain(const char *op)
{
    if (!strcmp(op, "describe")) {
        puts(reply);
        return;
    }
    if (!strcmp(op, "ls")) {
        char name[256], type[16];
        for (const char *p = reply; (p = vk_kobj_next_child(p, name, sizeof(name), type, sizeof(type))); )
            printf("%s%s\n", name, strcmp(type, "dir") ? "" : "/");
        return;
    }
    static char value[REPLY_MAX];
    if (vk_kobj_value(reply, value, sizeof(value)))
        puts(value);
}

static int usage(void)
{
    fprintf(stderr, "usage: vkobj ls|get|set|describe [--json] PATH [VALUE]\n");
    return 1;
}

int main(int argc, char **argv)
{
    int i = 1;
    if (argc < 3)
        return usage();
    const char *op = argv[i++];
    int json = 0;
    if (!strcmp(argv[i], "--json")) {
        json = 1;
        i++;
    }
    if (i >= argc)
        return usage();
    const char *path = argv[i++];
    const char *value = i < argc ? argv[i++] : NULL;
    int is_set = !strcmp(op, "set");
    if (i != argc || (is_set != (value != NULL)))
        return usage();
    const char *wire = !strcmp(op, "ls") ? "list" : op;
    if (strcmp(wire, "list") && strcmp(wire, "get") && !is_set && strcmp(wire, "describe"))
        return usage();

    long n = is_set ? vk_kobj_set(path, value, reply, sizeof(reply))
                    : vk_kobj_op(wire, path, reply, sizeof(reply));
    if (n == -E2BIG) {
        fprintf(stderr, "vkobj: request too long\n");
        return EXIT_BAD_REQUEST;
    }
    if (n == -ENOSYS) {
        fprintf(stderr, "vkobj: this kernel has no KObj RPC (vk_api_t revision < 2)\n");
        return 1;
    }
    if (n < 0) {
        fprintf(stderr, "vkobj: %s\n", strerror((int)-n));
        return 1;
    }
    char error[32], message[256];
    if (vk_kobj_field(reply, "error", error, sizeof(error))) {
        if (json)
            puts(reply);
        else
            fprintf(stderr, "vkobj: %s: %s (%s)\n", path,
                    vk_kobj_field(reply, "message", message, sizeof(message)) ? message : "", error);
        return exit_code(error);
    }
    if (json)
        puts(reply);
    else
        print_plain(op);
    return 0;
}
