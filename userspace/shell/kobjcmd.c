/* SPDX-License-Identifier: MIT */
/*
 * Builtins over the KObj RPC (docs/kobj.md, client in libvk's vk_kobj.c) and the power
 * and panic commands. Every failure is one line naming the command and the path: a node
 * this kernel does not have says "not available in this kernel", and off vkernel (the
 * host tests) every command says there is no KObj RPC here.
 */
#define _GNU_SOURCE /* setenv, strdup, strsignal, reboot, ... */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>
#include <vk/libvk.h>
#include "shell.h"

#define TASKS_MAX 256

static char reply[SHELL_REPLY_MAX];

/* Reports a failed call or an error reply (in buf); 0 when the reply is a success. */
static int check_in(const char *buf, const char *cmd, const char *path, long n)
{
    if (n == -ENOSYS) {
        fprintf(stderr, "%s: no KObj RPC here (not running on vkernel)\n", cmd);
        return 1;
    }
    if (n < 0) {
        fprintf(stderr, "%s: %s: %s\n", cmd, path, strerror((int)-n));
        return 1;
    }
    char error[32], message[256];
    if (!vk_kobj_field(buf, "error", error, sizeof(error)))
        return 0;
    if (!vk_kobj_field(buf, "message", message, sizeof(message)))
        message[0] = 0;
    if (!strcmp(error, "not_found"))
        fprintf(stderr, "%s: %s: not available in this kernel\n", cmd, path);
    else
        fprintf(stderr, "%s: %s: %s (%s)\n", cmd, path, message, error);
    return !strcmp(error, "not_found") ? 2 : !strcmp(error, "bad_value") ||
           !strcmp(error, "wrong_type") || !strcmp(error, "out_of_range") ? 3 : 1;
}

static int check(const char *cmd, const char *path, long n)
{
    return check_in(reply, cmd, path, n);
}

/* The value at path as text into out; the status of check(). */
static int get_text(const char *cmd, const char *path, char *out, size_t size)
{
    int err = check(cmd, path, vk_kobj_op("get", path, reply, sizeof(reply)));
    if (!err && !vk_kobj_value(reply, out, size))
        out[0] = 0;
    return err;
}

static int get_u64(const char *cmd, const char *path, uint64_t *v)
{
    char text[32];
    int err = get_text(cmd, path, text, sizeof(text));
    if (!err)
        *v = strtoull(text, NULL, 10);
    return err;
}

int cmd_version(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: version\n");
        return 2;
    }
    char version[64], build[128];
    int err = get_text("version", "/kernel/version", version, sizeof(version));
    if (!err)
        err = get_text("version", "/kernel/build_id", build, sizeof(build));
    if (!err)
        printf("vkernel %s (build %s)\n", version, build);
    return err;
}

int cmd_uptime(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: uptime\n");
        return 2;
    }
    uint64_t ns;
    int err = get_u64("uptime", "/kernel/uptime_ns", &ns);
    if (!err) {
        uint64_t s = ns / 1000000000u;
        printf("up %llu:%02llu:%02llu.%03llu (%llu s)\n", (unsigned long long)(s / 3600),
               (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60),
               (unsigned long long)(ns / 1000000 % 1000), (unsigned long long)s);
    }
    return err;
}

int cmd_mem(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: mem\n");
        return 2;
    }
    uint64_t total, free_bytes;
    int err = get_u64("mem", "/mem/total", &total);
    if (!err)
        err = get_u64("mem", "/mem/free", &free_bytes);
    if (!err)
        printf("memory: %llu MiB total, %llu MiB free, %llu MiB used\n",
               (unsigned long long)(total >> 20), (unsigned long long)(free_bytes >> 20),
               (unsigned long long)((total - free_bytes) >> 20));
    return err;
}

typedef struct {
    char id[16], name[48], state[16];
    uint64_t cpu, run_ns, user_ns, kernel_ns;
    long priority;
} task_t;

/* A number under /sched/tasks/ID/field, 0 when it cannot be read. */
static uint64_t task_u64(const char *id, const char *field)
{
    char path[96], text[64];
    snprintf(path, sizeof(path), "/sched/tasks/%s/%s", id, field);
    return vk_kobj_op("get", path, reply, sizeof(reply)) >= 0 && vk_kobj_value(reply, text, sizeof(text))
           ? strtoull(text, NULL, 10) : 0;
}

/* Reads /sched/tasks into tasks; the count, or -status. */
static int read_tasks(const char *cmd, task_t *tasks, int max)
{
    int err = check(cmd, "/sched/tasks", vk_kobj_op("list", "/sched/tasks", reply, sizeof(reply)));
    if (err)
        return -err;
    static char ids[TASKS_MAX][16];
    int n = 0;
    char type[16];
    for (const char *p = reply; n < max && (p = vk_kobj_next_child(p, ids[n], sizeof(ids[n]), type, sizeof(type))); )
        n++;
    int kept = 0;
    for (int i = 0; i < n; i++) {
        task_t *t = &tasks[kept];
        char path[96], text[64];
        snprintf(t->id, sizeof(t->id), "%s", ids[i]);
        /* A task may end between the list and these reads: leave it out then. */
        snprintf(path, sizeof(path), "/sched/tasks/%s/name", ids[i]);
        if (vk_kobj_op("get", path, reply, sizeof(reply)) < 0 || !vk_kobj_value(reply, t->name, sizeof(t->name)))
            continue;
        snprintf(path, sizeof(path), "/sched/tasks/%s/state", ids[i]);
        if (vk_kobj_op("get", path, reply, sizeof(reply)) < 0 || !vk_kobj_value(reply, t->state, sizeof(t->state)))
            continue;
        snprintf(path, sizeof(path), "/sched/tasks/%s/cpu", ids[i]);
        t->cpu = vk_kobj_op("get", path, reply, sizeof(reply)) >= 0 && vk_kobj_value(reply, text, sizeof(text))
                 ? strtoull(text, NULL, 10) : 0;
        snprintf(path, sizeof(path), "/sched/tasks/%s/priority", ids[i]);
        t->priority = vk_kobj_op("get", path, reply, sizeof(reply)) >= 0 && vk_kobj_value(reply, text, sizeof(text))
                      ? strtol(text, NULL, 10) : 0;
        t->run_ns = task_u64(ids[i], "run_ns");
        t->user_ns = task_u64(ids[i], "user_ns");
        t->kernel_ns = task_u64(ids[i], "kernel_ns");
        kept++;
    }
    return kept;
}

int cmd_tasks(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: tasks\n");
        return 2;
    }
    static task_t tasks[TASKS_MAX];
    int n = read_tasks("tasks", tasks, TASKS_MAX);
    if (n < 0)
        return -n;
    printf("%6s %-9s %3s %4s %12s %10s %10s  %s\n", "TID", "STATE", "CPU", "PRIO", "RUN_MS",
           "USER_MS", "SYS_MS", "NAME");
    for (int i = 0; i < n; i++)
        printf("%6s %-9s %3llu %4ld %12llu %10llu %10llu  %s\n", tasks[i].id, tasks[i].state,
               (unsigned long long)tasks[i].cpu, tasks[i].priority,
               (unsigned long long)(tasks[i].run_ns / 1000000),
               (unsigned long long)(tasks[i].user_ns / 1000000),
               (unsigned long long)(tasks[i].kernel_ns / 1000000), tasks[i].name);
    return 0;
}

/* Waits up to ms for a key; 1 when the user asked to stop (q, Ctrl-C, end of input). */
static int wait_for_quit(int ms)
{
    struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
    int r = poll(&p, 1, ms);
    if (r <= 0)
        return 0;
    char c;
    if (read(STDIN_FILENO, &c, 1) != 1)
        return 1;
    return c == 'q' || c == 'Q' || c == 3;
}

static int by_recent(const void *a, const void *b)
{
    const task_t *x = a, *y = b;
    return x->cpu < y->cpu ? 1 : x->cpu > y->cpu ? -1 : 0; /* cpu holds the delta here */
}

int cmd_top(int argc, char **argv)
{
    int once = argc == 2 && !strcmp(argv[1], "once");
    if (argc > 2 || (argc == 2 && !once)) {
        fprintf(stderr, "usage: top [once]\n");
        return 2;
    }
    static task_t now[TASKS_MAX], before[TASKS_MAX], shown[TASKS_MAX];
    int n_before = 0;
    int raw = !once && shell_raw_mode() == 0;
    int status = 0;
    for (;;) {
        int n = read_tasks("top", now, TASKS_MAX);
        if (n < 0) {
            status = -n;
            break;
        }
        uint64_t total = 0;
        for (int i = 0; i < n; i++) {
            uint64_t prev = 0;
            for (int j = 0; j < n_before; j++)
                if (!strcmp(before[j].id, now[i].id))
                    prev = before[j].run_ns;
            shown[i] = now[i];
            shown[i].cpu = now[i].run_ns - (prev <= now[i].run_ns ? prev : now[i].run_ns);
            total += shown[i].cpu;
        }
        qsort(shown, (size_t)n, sizeof(shown[0]), by_recent);
        if (!once)
            fputs("\x1b[H\x1b[2J", stdout);
        printf("top: %d tasks%s\r\n", n, once ? " (CPU share since boot)" : " (q quits)");
        printf("%6s %-9s %6s %12s %10s %10s  %s\r\n", "TID", "STATE", "CPU%", "RUN_MS",
               "USER_MS", "SYS_MS", "NAME");
        for (int i = 0; i < n; i++)
            printf("%6s %-9s %5.1f%% %12llu %10llu %10llu  %s\r\n", shown[i].id, shown[i].state,
                   total ? 100.0 * (double)shown[i].cpu / (double)total : 0.0,
                   (unsigned long long)(shown[i].run_ns / 1000000),
                   (unsigned long long)(shown[i].user_ns / 1000000),
                   (unsigned long long)(shown[i].kernel_ns / 1000000), shown[i].name);
        fflush(stdout);
        memcpy(before, now, sizeof(now[0]) * (size_t)n);
        n_before = n;
        if (once || wait_for_quit(1000))
            break;
    }
    if (raw)
        shell_terminal_restore();
    return status;
}

int cmd_get(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: get <kobj path>\n");
        return 2;
    }
    static char value[SHELL_REPLY_MAX];
    int err = get_text("get", argv[1], value, sizeof(value));
    if (!err)
        puts(value);
    return err;
}

int cmd_set(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: set <kobj path> <value>\n");
        return 2;
    }
    int err = check("set", argv[1], vk_kobj_set(argv[1], argv[2], reply, sizeof(reply)));
    if (!err) {
        static char value[SHELL_REPLY_MAX];
        printf("%s = %s\n", argv[1], vk_kobj_value(reply, value, sizeof(value)) ? value : argv[2]);
    }
    return err;
}

int cmd_describe(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: describe <kobj path>\n");
        return 2;
    }
    int err = check("describe", argv[1], vk_kobj_op("describe", argv[1], reply, sizeof(reply)));
    if (err)
        return err;
    char type[16] = "", unit[32] = "", text[256] = "";
    vk_kobj_field(reply, "type", type, sizeof(type));
    vk_kobj_field(reply, "unit", unit, sizeof(unit));
    vk_kobj_field(reply, "description", text, sizeof(text));
    const char *access = strstr(reply, "\"access\":");
    const char *choices = strstr(reply, "\"choices\":");
    printf("%s: %s", argv[1], type);
    if (access)
        printf(", access %.*s", (int)(strcspn(access + 9, "]") + 1), access + 9);
    if (*unit)
        printf(", unit %s", unit);
    printf("\n  %s\n", text);
    if (choices)
        printf("  choices %.*s\n", (int)(strcspn(choices + 10, "]") + 1), choices + 10);
    return 0;
}

int cmd_watch(int argc, char **argv)
{
    long interval = argc == 3 ? strtol(argv[2], NULL, 10) : 1000;
    if (argc < 2 || argc > 3 || interval < 10 || interval > 3600000) {
        fprintf(stderr, "usage: watch <kobj path> [interval_ms] (10..3600000)\n");
        return 2;
    }
    static char value[4096], last[4096];
    int err = get_text("watch", argv[1], value, sizeof(value));
    if (err)
        return err;
    int raw = shell_raw_mode() == 0;
    printf("watch: %s every %ld ms (q quits)\r\n%s\r\n", argv[1], interval, value);
    fflush(stdout);
    snprintf(last, sizeof(last), "%s", value);
    while (!wait_for_quit((int)interval)) {
        if ((err = get_text("watch", argv[1], value, sizeof(value))))
            break;
        if (strcmp(value, last)) {
            printf("%s\r\n", value);
            fflush(stdout);
            snprintf(last, sizeof(last), "%s", value);
        }
    }
    if (raw)
        shell_terminal_restore();
    return err;
}

/* Prints the leaves under path (depth levels of directories), "path = value". */
static int print_tree(const char *cmd, const char *path, int depth)
{
    static char list[SHELL_REPLY_MAX];
    int err = check_in(list, cmd, path, vk_kobj_op("list", path, list, sizeof(list)));
    if (err)
        return err;
    char *copy = strdup(list);
    if (!copy)
        return 1;
    char name[128], type[16], child[512], value[256];
    for (const char *p = copy; (p = vk_kobj_next_child(p, name, sizeof(name), type, sizeof(type))); ) {
        snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") ? path : "", name);
        if (!strcmp(type, "dir")) {
            if (depth > 0)
                print_tree(cmd, child, depth - 1);
            else
                printf("%-40s dir\n", child);
        } else if (!strcmp(type, "action")) {
            printf("%-40s (action)\n", child);
        } else if (vk_kobj_op("get", child, reply, sizeof(reply)) >= 0 &&
                   vk_kobj_value(reply, value, sizeof(value))) {
            printf("%-40s %s\n", child, value);
        }
    }
    free(copy);
    return 0;
}

int shell_kobj_ls(const char *path)
{
    static char list[SHELL_REPLY_MAX];
    int err = check_in(list, "ls", path, vk_kobj_op("list", path, list, sizeof(list)));
    if (err)
        return err;
    char name[128], type[16], child[512], value[256];
    for (const char *p = list; (p = vk_kobj_next_child(p, name, sizeof(name), type, sizeof(type))); ) {
        snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") ? path : "", name);
        if (!strcmp(type, "dir") || !strcmp(type, "action") ||
            vk_kobj_op("get", child, reply, sizeof(reply)) < 0 || !vk_kobj_value(reply, value, sizeof(value)))
            value[0] = 0;
        printf("%-24s %-7s %s\n", !strcmp(type, "dir") ? strcat(name, "/") : name, type, value);
    }
    return 0;
}

int cmd_idt(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: idt\n");
        return 2;
    }
    return print_tree("idt", "/irq", 2);
}

static int driver_action(const char *cmd, int argc, char **argv, const char *action)
{
    if (argc != 2 || strchr(argv[1], '/')) {
        fprintf(stderr, "usage: %s <driver>\n", cmd);
        return 2;
    }
    char path[256];
    snprintf(path, sizeof(path), "/drivers/%s/%s", argv[1], action);
    int err = check(cmd, path, vk_kobj_set(path, "", reply, sizeof(reply)));
    if (!err)
        printf("%s: %s: done\n", cmd, argv[1]);
    return err;
}

int cmd_drvload(int argc, char **argv) { return driver_action("drvload", argc, argv, "load"); }
int cmd_drvunload(int argc, char **argv) { return driver_action("drvunload", argc, argv, "unload"); }

static int power(const char *cmd, int argc, int how)
{
    if (argc != 1) {
        fprintf(stderr, "usage: %s\n", cmd);
        return 2;
    }
    fflush(NULL);
    sync();
    shell_terminal_restore();
    reboot(how);
    fprintf(stderr, "%s: %s\n", cmd, errno == ENOSYS ? "not available in this kernel (no reboot call)"
                                                     : strerror(errno));
    return 1;
}

int cmd_reboot(int argc, char **argv) { (void)argv; return power("reboot", argc, RB_AUTOBOOT); }
int cmd_poweroff(int argc, char **argv) { (void)argv; return power("poweroff", argc, RB_POWER_OFF); }

int cmd_panic(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: panic\n");
        return 2;
    }
    const char *path = "/kernel/panic";
    int err = check("panic", path, vk_kobj_op("describe", path, reply, sizeof(reply)));
    if (err)
        return err;
    char answer[16];
    fflush(stdout);
    int n = shell_read_line("This stops the machine with a kernel panic. Type yes to confirm: ",
                            answer, sizeof(answer));
    if (n < 0 || strcmp(answer, "yes")) {
        fprintf(stderr, "panic: not confirmed\n");
        return 1;
    }
    return check("panic", path, vk_kobj_set(path, "", reply, sizeof(reply)));
}
