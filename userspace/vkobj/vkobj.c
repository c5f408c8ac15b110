/* SPDX-License-Identifier: MIT */
/*
 * vkobj: inspect and set the kernel object tree (docs/kobj.md) over the KObj RPC.
 *
 *   vkobj ls [--json] PATH          children of a directory
 *   vkobj get [--json] PATH         a value
 *   vkobj set [--json] PATH VALUE   set a value (VALUE is parsed for the node's type)
 *   vkobj describe [--json] PATH    type, access, unit, description, choices
 *   vkobj watch [--json] PATH [INTERVAL_MS [COUNT]]
 *                                   a value every INTERVAL_MS (default 1000), COUNT times
 *                                   (default: until interrupted)
 *   vkobj rpc REQUEST               send a raw JSON request, print the reply
 *
 * --json prints the kernel's reply as it came. Exit status: 0 success, 1 usage or
 * other failure, 2 not found, 3 bad value (wrong type, out of range), 4 permission
 * (read-only, not readable, or no KObj-write right), 5 bad request.
 *
 * watch uses the kernel's watch op, which samples inside one call; vkobj asks for about
 * a second of samples per call so the output stays live, and sleeps one interval
 * between calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vk/libvk.h>
#include <vk/syscall.h>

#define EXIT_NOT_FOUND   2
#define EXIT_BAD_VALUE   3
#define EXIT_PERMISSION  4
#define EXIT_BAD_REQUEST 5
#define REPLY_MAX (64 * 1024)
#define REQUEST_MAX 4096
#define WATCH_CHUNK_MAX 100 /* the kernel's CONFIG_KOBJ_WATCH_COUNT_MAX */

static char reply[REPLY_MAX];

static long rpc(const char *request)
{
    long n = vk_kobj_call(request, reply, sizeof(reply));
    if (n == -ENOSYS)
        fprintf(stderr, "vkobj: this kernel has no KObj RPC (vk_api_t revision < 2)\n");
    return n;
}

static int exit_code(const char *error)
{
    if (!strcmp(error, "not_found"))
        return EXIT_NOT_FOUND;
    if (!strcmp(error, "wrong_type") || !strcmp(error, "out_of_range") ||
        !strcmp(error, "bad_value"))
        return EXIT_BAD_VALUE;
    if (!strcmp(error, "read_only") || !strcmp(error, "not_readable") ||
        !strcmp(error, "permission"))
        return EXIT_PERMISSION;
    if (!strcmp(error, "bad_request"))
        return EXIT_BAD_REQUEST;
    return 1;
}

static void print_value(const char *v);

/* Plain output: the value after "value": (strings unquoted), or each child's name. */
static void print_plain(const char *op)
{
    if (!strcmp(op, "describe")) {
        puts(reply);
        return;
    }
    if (!strcmp(op, "ls")) {
        for (const char *p = reply; (p = strstr(p, "{\"name\":\"")); ) {
            char name[256], type[16];
            vk_kobj_field(p, "name", name, sizeof(name));
            vk_kobj_field(p, "type", type, sizeof(type));
            printf("%s%s\n", name, strcmp(type, "dir") ? "" : "/");
            p += 9;
        }
        return;
    }
    const char *v = strstr(reply, "\"value\":");
    if (v)
        print_value(v + 8);
}

/* Prints the JSON value at v (strings unquoted) and a newline. */
static void print_value(const char *v)
{
    if (*v == '"') {
        /* Unescape the common cases; the reply is the kernel's own JSON. */
        for (v++; *v && *v != '"'; v++) {
            if (*v == '\\' && v[1]) {
                v++;
                putchar(*v == 'n' ? '\n' : *v == 't' ? '\t' : *v);
            } else {
                putchar(*v);
            }
        }
        putchar('\n');
    } else {
        size_t n = strcspn(v, ",}");
        printf("%.*s\n", (int)n, v);
    }
}

/* -?[0-9]+: what may go into the request as a JSON number as it is. */
static int is_integer(const char *s)
{
    s += *s == '-';
    return *s && strspn(s, "0123456789") == strlen(s);
}

static int usage(void)
{
    fprintf(stderr, "usage: vkobj ls|get|set|describe [--json] PATH [VALUE]\n"
                    "       vkobj watch [--json] PATH [INTERVAL_MS [COUNT]]\n"
                    "       vkobj rpc REQUEST\n");
    return 1;
}

/* The reply's error class as an exit status (and its report), or 0. */
static int check_reply(const char *path, int json)
{
    char error[32], message[256];
    if (!vk_kobj_field(reply, "error", error, sizeof(error)))
        return 0;
    if (json)
        puts(reply);
    else
        fprintf(stderr, "vkobj: %s: %s (%s)\n", path,
                vk_kobj_field(reply, "message", message, sizeof(message)) ? message : "", error);
    return exit_code(error);
}

/* Sends request; the reply is in reply[] (and printed with --json). 0, or the exit
 * status for a failed call or an error reply (reported on stderr). */
static int exchange(const char *request, const char *path, int json)
{
    long n = rpc(request);
    if (n < 0) {
        fprintf(stderr, "vkobj: %s\n", strerror((int)-n));
        return 1;
    }
    int status = check_reply(path, json);
    if (!status && json)
        puts(reply);
    return status;
}

/* A decimal number in [min, max], or -1. */
static long long number_arg(const char *s, long long min, long long max)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    return *s && !*end && v >= min && v <= max ? v : -1;
}

static int watch(const char *path, long long interval, long long count, int json)
{
    static char request[REQUEST_MAX];
    long long done = 0, first_ns = -1;
    while (!count || done < count) {
        long long chunk = interval >= 1000 ? 1 : 1000 / interval;
        if (chunk > WATCH_CHUNK_MAX)
            chunk = WATCH_CHUNK_MAX;
        if (count && chunk > count - done)
            chunk = count - done;
        size_t at = (size_t)snprintf(request, sizeof(request), "{\"op\":\"watch\",\"path\":");
        at = vk_kobj_quote(request, at, sizeof(request) - 64, path);
        snprintf(request + at, sizeof(request) - at, ",\"interval_ms\":%lld,\"count\":%lld}",
                 interval, chunk);
        int status = exchange(request, path, json);
        if (status)
            return status;
        for (const char *p = reply; (p = strstr(p, "{\"t_ns\":")); p++) {
            long long t = strtoll(p + 8, NULL, 10);
            const char *v = strstr(p, "\"value\":");
            if (first_ns < 0)
                first_ns = t;
            if (!json && v) {
                printf("%lld.%03lld ", (t - first_ns) / 1000000000, (t - first_ns) / 1000000 % 1000);
                print_value(v + 8);
            }
            done++;
        }
        fflush(stdout);
        if (strstr(reply, "\"interrupted\":true"))
            return 1;
        if (!count || done < count) {
            struct timespec ts = { interval / 1000, interval % 1000 * 1000000 };
            nanosleep(&ts, NULL);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    int i = 1;
    if (argc < 3)
        return usage();
    const char *op = argv[i++];
    if (!strcmp(op, "rpc")) {
        if (argc != 3)
            return usage();
        long n = rpc(argv[2]);
        if (n < 0) {
            fprintf(stderr, "vkobj: %s\n", strerror((int)-n));
            return n == -E2BIG ? EXIT_BAD_REQUEST : 1;
        }
        puts(reply);
        char error[32];
        return vk_kobj_field(reply, "error", error, sizeof(error)) ? exit_code(error) : 0;
    }
    int json = 0;
    if (!strcmp(argv[i], "--json")) {
        json = 1;
        i++;
    }
    if (i >= argc)
        return usage();
    const char *path = argv[i++];
    if (!strcmp(op, "watch")) {
        long long interval = i < argc ? number_arg(argv[i++], 1, 60000) : 1000;
        long long count = i < argc ? number_arg(argv[i++], 1, 1000000000) : 0;
        if (interval < 0 || count < 0 || i != argc)
            return usage();
        return watch(path, interval, count, json);
    }
    const char *value = i < argc ? argv[i++] : NULL;
    int is_set = !strcmp(op, "set");
    if (i != argc || (is_set != (value != NULL)))
        return usage();
    const char *wire = !strcmp(op, "ls") ? "list" : op;
    if (strcmp(wire, "list") && strcmp(wire, "get") && !is_set && strcmp(wire, "describe"))
        return usage();

    static char request[REQUEST_MAX];
    size_t at = (size_t)snprintf(request, sizeof(request), "{\"op\":\"%s\",\"path\":", wire);
    at = vk_kobj_quote(request, at, sizeof(request), path);
    if (is_set) {
        /* int, uint and bool nodes take JSON literals, the rest strings: ask first. */
        static char describe[REQUEST_MAX];
        size_t d = (size_t)snprintf(describe, sizeof(describe), "{\"op\":\"describe\",\"path\":");
        d = vk_kobj_quote(describe, d, sizeof(describe) - 2, path);
        strcpy(describe + d, "}");
        char type[16] = "";
        if (rpc(describe) >= 0)
            vk_kobj_field(reply, "type", type, sizeof(type));
        int literal = (!strcmp(type, "bool") && (!strcmp(value, "true") || !strcmp(value, "false"))) ||
                      ((!strcmp(type, "int") || !strcmp(type, "uint")) && is_integer(value));
        at += (size_t)snprintf(request + at, sizeof(request) - at, ",\"value\":");
        if (literal && strlen(value) + 2 < sizeof(request) - at)
            at += (size_t)snprintf(request + at, sizeof(request) - at, "%s", value);
        else
            at = vk_kobj_quote(request, at, sizeof(request), value);
    }
    at += (size_t)snprintf(request + at, at < sizeof(request) ? sizeof(request) - at : 0, "}");
    if (at >= sizeof(request)) {
        fprintf(stderr, "vkobj: request too long\n");
        return EXIT_BAD_REQUEST;
    }
    int status = exchange(request, path, json);
    if (status)
        return status;
    if (!json)
        print_plain(op);
    return 0;
}
