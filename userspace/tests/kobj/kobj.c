/* SPDX-License-Identifier: MIT */
/*
 * KObj from ring 3: /kobj files read and written with plain musl calls, the RPC's
 * answer for each error class, vkobj's exit codes, setting /kernel/log/level both
 * ways, /irq, /sched and /mem nodes, the watch op, and the KObj-write right: this
 * program runs as init, so the kernel granted it the right; a child it does not pass
 * the handle to is refused, one it does pass it to (fork or vk_spawn) may write.
 * Prints PASS/FAIL lines and "test-kobj: N passed, N failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vk/libvk.h>
#include <vk/ipc.h>
#include "../vktest.h"

static char buf[65536];

/* The whole content of a /kobj file, or NULL (errno set). */
static const char *read_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0)
        return NULL;
    buf[n] = 0;
    return buf;
}

/* Writes text to path; 0 or the errno. */
static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_TRUNC);
    if (fd < 0)
        return errno;
    ssize_t n = write(fd, text, strlen(text));
    int err = n < 0 ? errno : 0;
    close(fd);
    return err;
}

static const char *rpc(const char *request)
{
    long n = vk_api()->kobj_rpc(request, strlen(request), buf, sizeof(buf));
    return n < 0 ? "" : buf;
}

static void check_rpc(const char *name, const char *request, const char *expect)
{
    const char *reply = rpc(request);
    vktest_check(strstr(reply, expect) != NULL, name, reply);
}

static int run_vkobj(const char *a, const char *b, const char *c, const char *d)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl("/bin/vkobj.vbin", "vkobj", a, b, c, d, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void files(void)
{
    const char *v = read_file("/kobj/mem/free");
    vktest_check(v && strtoull(v, NULL, 10) > 0 && v[strlen(v) - 1] == '\n',
                 "file_mem_free_is_a_number_and_newline", v ? v : strerror(errno));
    v = read_file("/kobj/kernel/version");
    vktest_check(v && !strcmp(v, "0.1.0\n"), "file_kernel_version", v ? v : strerror(errno));
    v = read_file("/kobj/kernel/cmdline");
    vktest_check(v && strstr(v, "test=user"), "file_kernel_cmdline", v ? v : strerror(errno));
    struct stat st;
    vktest_check(stat("/kobj/cpu/0", &st) == 0 && S_ISDIR(st.st_mode), "file_cpu0_is_dir",
                 strerror(errno));
    v = read_file("/kobj/cpu/0/online");
    vktest_check(v && !strcmp(v, "true\n"), "file_cpu0_online", v ? v : strerror(errno));
    vktest_check(stat("/kobj/mem/free", &st) == 0 && (st.st_mode & 0777) == 0444,
                 "file_read_only_mode", "mode");
    vktest_check(stat("/kobj/kernel/log/level", &st) == 0 && (st.st_mode & 0777) == 0644,
                 "file_writable_mode", "mode");
    errno = 0;
    vktest_check(!read_file("/kobj/no/such") && errno == ENOENT, "file_missing_enoent",
                 strerror(errno));
    vktest_check(write_file("/kobj/mem/free", "1\n") == EACCES, "file_write_read_only_eacces",
                 "expected EACCES");
    vktest_check(write_file("/kobj/kernel/log/level", "loud\n") == EINVAL,
                 "file_write_bad_value_einval", "expected EINVAL");
    vktest_check(write_file("/kobj/kernel/log/level", "debug\n") == 0 &&
                 (v = read_file("/kobj/kernel/log/level")) && !strcmp(v, "debug\n"),
                 "file_set_log_level_debug", "not debug");
    vktest_check(write_file("/kobj/kernel/log/level", "info") == 0 &&
                 (v = read_file("/kobj/kernel/log/level")) && !strcmp(v, "info\n"),
                 "file_set_log_level_back_to_info", "not info");
    vktest_check(open("/kobj/new", O_CREAT | O_WRONLY, 0644) < 0, "file_create_refused",
                 "created a file");
    /* Scheduler thread ids are not pids: find this program's thread by name. */
    DIR *dir = opendir("/kobj/sched/tasks");
    int tasks = 0, mine = 0;
    for (struct dirent *e; dir && (e = readdir(dir));) {
        char path[300];
        snprintf(path, sizeof(path), "/kobj/sched/tasks/%s/name", e->d_name);
        tasks++;
        v = read_file(path);
        mine += v && strstr(v, "test-kobj") != NULL;
    }
    if (dir)
        closedir(dir);
    vktest_check(tasks >= 2, "file_sched_tasks_listed", "fewer than 2 tasks");
    vktest_check(mine == 1, "file_own_task_name", "no task named test-kobj");
    v = read_file("/kobj/syscall/calls/read");
    vktest_check(v && strtoull(v, NULL, 10) > 0, "file_syscall_count", v ? v : strerror(errno));
    v = read_file("/kobj/fs/mounts/0/type");
    vktest_check(v != NULL, "file_fs_mount_type", strerror(errno));
}

static void rpc_errors(void)
{
    vktest_check(vk_api_version() >= 2, "rpc_vk_api_revision_2", "old table");
    check_rpc("rpc_get_ok", "{\"op\":\"get\",\"path\":\"/mem/total\"}", "\"ok\":true");
    check_rpc("rpc_malformed", "{\"op\":\"get\",", "\"error\":\"bad_request\"");
    check_rpc("rpc_not_an_object", "[]", "\"error\":\"bad_request\"");
    check_rpc("rpc_unknown_op", "{\"op\":\"zap\",\"path\":\"/\"}", "\"error\":\"bad_request\"");
    check_rpc("rpc_extra_member", "{\"op\":\"get\",\"path\":\"/\",\"x\":1}",
              "\"error\":\"bad_request\"");
    check_rpc("rpc_unknown_path", "{\"op\":\"get\",\"path\":\"/mem/nothing\"}",
              "\"error\":\"not_found\"");
    check_rpc("rpc_wrong_type", "{\"op\":\"set\",\"path\":\"/kernel/log/level\",\"value\":3}",
              "\"error\":\"wrong_type\"");
    check_rpc("rpc_out_of_range",
              "{\"op\":\"set\",\"path\":\"/kernel/log/level\",\"value\":\"verbose\"}",
              "\"error\":\"out_of_range\"");
    check_rpc("rpc_read_only", "{\"op\":\"set\",\"path\":\"/mem/free\",\"value\":1}",
              "\"error\":\"read_only\"");
    check_rpc("rpc_get_dir", "{\"op\":\"get\",\"path\":\"/mem\"}", "\"error\":\"wrong_type\"");
    check_rpc("rpc_list", "{\"op\":\"list\",\"path\":\"/\"}", "{\"name\":\"kernel\",\"type\":\"dir\"}");
    check_rpc("rpc_describe", "{\"op\":\"describe\",\"path\":\"/mem/free\"}", "\"unit\":\"bytes\"");
    check_rpc("rpc_set_log_level",
              "{\"op\":\"set\",\"path\":\"/kernel/log/level\",\"value\":\"warn\"}",
              "\"value\":\"warn\"");
    check_rpc("rpc_log_level_reads_back", "{\"op\":\"get\",\"path\":\"/kernel/log/level\"}",
              "\"value\":\"warn\"");
    rpc("{\"op\":\"set\",\"path\":\"/kernel/log/level\",\"value\":\"info\"}");
    char tiny[4];
    vktest_check(vk_api()->kobj_rpc("{}", 2, tiny, sizeof(tiny)) == -ERANGE,
                 "rpc_small_reply_erange", "expected -ERANGE");
    /* No kernel address may leak: nothing that looks like a higher-half pointer. */
    const char *all = rpc("{\"op\":\"list\",\"path\":\"/sched/tasks\"}");
    vktest_check(!strstr(all, "ffff8") && !strstr(all, "18446"), "rpc_no_kernel_addresses", all);
}

static void tool(void)
{
    vktest_check(run_vkobj("get", "/mem/free", NULL, NULL) == 0, "vkobj_get_ok", "status");
    vktest_check(run_vkobj("ls", "/cpu", NULL, NULL) == 0, "vkobj_ls_ok", "status");
    vktest_check(run_vkobj("describe", "--json", "/kernel/log/level", NULL) == 0,
                 "vkobj_describe_ok", "status");
    vktest_check(run_vkobj("get", "/nope", NULL, NULL) == 2, "vkobj_not_found_2", "status");
    vktest_check(run_vkobj("set", "/kernel/log/level", "loud", NULL) == 3,
                 "vkobj_bad_value_3", "status");
    vktest_check(run_vkobj("set", "/mem/free", "5", NULL) == 4, "vkobj_permission_4", "status");
    vktest_check(run_vkobj("set", "/kernel/log/level", "info", NULL) == 0,
                 "vkobj_set_ok", "status");
}

/* Runs vkobj through vk_spawn (not fork): its exit status. */
static int spawn_vkobj(const char *a, const char *b, const char *c)
{
    const char *argv[] = { "vkobj", a, b, c, NULL };
    extern char **environ;
    long pid = vk_api()->spawn("/bin/vkobj.vbin", argv, (const char *const *)environ);
    int status = 0;
    if (pid <= 0 || waitpid((pid_t)pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* In a forked child: what a write gets. Bit 0: the RPC said "permission"; bit 1: the
 * /kobj file write failed with EPERM; bit 2: a set succeeded both ways. */
static int child_write_outcome(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        int r = 0;
        const char *reply = rpc("{\"op\":\"set\",\"path\":\"/kernel/log/level\",\"value\":\"info\"}");
        r |= strstr(reply, "\"error\":\"permission\"") ? 1 : 0;
        int werr = write_file("/kobj/kernel/log/level", "info\n");
        r |= werr == EPERM ? 2 : 0;
        r |= strstr(reply, "\"ok\":true") && werr == 0 ? 4 : 0;
        /* Without the right, the panic action is refused before it can run. */
        if (!(r & 4)) {
            reply = rpc("{\"op\":\"set\",\"path\":\"/kernel/panic\"}");
            r |= strstr(reply, "\"error\":\"permission\"") ? 0 : 8;
        }
        _exit(r);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_right(void)
{
    const char *env = getenv("VK_KOBJ_WRITE");
    vktest_check(env != NULL, "right_env_names_the_handle", "no VK_KOBJ_WRITE");
    if (!env)
        return;
    uint32_t h = (uint32_t)strtoul(env, NULL, 10);
    vk_handle_info_t info;
    vktest_check(vk_api()->handle_info(h, &info) == 0 && info.type == VK_OBJECT_KOBJ_WRITE,
                 "right_handle_is_kobj_write", env);
    check_rpc("right_init_may_set",
              "{\"op\":\"set\",\"path\":\"/kernel/log/level\",\"value\":\"info\"}",
              "\"ok\":true");
    int r = child_write_outcome();
    vktest_check(r == 3, "right_child_without_handle_gets_permission", "outcome bits");
    vktest_check(spawn_vkobj("set", "/kernel/log/level", "info") == 4,
                 "right_spawned_without_handle_exit_4", "status");
    vktest_check(run_vkobj("set", "/kernel/log/level", "info", NULL) == 4,
                 "right_vkobj_forked_without_handle_exit_4", "status");
    /* Mark it inheritable: fork and vk_spawn children get it, and exec keeps it. */
    vktest_check(vk_api()->handle_inherit(h, 1) == 0, "right_mark_inherit", "failed");
    r = child_write_outcome();
    vktest_check(r == 4, "right_child_with_handle_may_set", "outcome bits");
    vktest_check(spawn_vkobj("set", "/kernel/log/level", "info") == 0,
                 "right_spawned_with_handle_may_set", "status");
}

static void new_nodes(void)
{
    const char *v;
    /* /irq: the timer's vector is listed with its owner and counts. */
    DIR *dir = opendir("/kobj/irq");
    int vectors = 0, timer = -1;
    for (struct dirent *e; dir && (e = readdir(dir));) {
        char path[300];
        snprintf(path, sizeof(path), "/kobj/irq/%s/name", e->d_name);
        vectors++;
        v = read_file(path);
        if (v && !strcmp(v, "tick_handler\n"))
            timer = atoi(e->d_name);
    }
    if (dir)
        closedir(dir);
    vktest_check(vectors >= 2 && timer >= 32, "irq_lists_timer_vector", "no tick_handler");
    char path[300];
    snprintf(path, sizeof(path), "/kobj/irq/%d/total", timer);
    v = read_file(path);
    vktest_check(v && strtoull(v, NULL, 10) > 0, "irq_timer_total_counts", v ? v : strerror(errno));
    snprintf(path, sizeof(path), "/kobj/irq/%d/per_cpu", timer);
    v = read_file(path);
    vktest_check(v && strtoull(v, NULL, 10) > 0, "irq_timer_per_cpu", v ? v : strerror(errno));
    /* /sched: classes, run queues and this program's task. */
    v = read_file("/kobj/sched/classes/batch/priority_min");
    vktest_check(v && !strcmp(v, "140\n"), "sched_class_batch_range", v ? v : strerror(errno));
    v = read_file("/kobj/sched/run_queues/0");
    vktest_check(v != NULL, "sched_run_queue_cpu0", strerror(errno));
    dir = opendir("/kobj/sched/tasks");
    int mine = 0;
    for (struct dirent *e; dir && (e = readdir(dir));) {
        snprintf(path, sizeof(path), "/kobj/sched/tasks/%s/process", e->d_name);
        v = read_file(path);
        if (!v || strcmp(v, "test-kobj.vbin\n"))
            continue;
        snprintf(path, sizeof(path), "/kobj/sched/tasks/%s/pid", e->d_name);
        v = read_file(path);
        mine += v && atoi(v) == getpid();
        snprintf(path, sizeof(path), "/kobj/sched/tasks/%s/resident", e->d_name);
        v = read_file(path);
        mine += v && strtoull(v, NULL, 10) > 0 ? 10 : 0;
        snprintf(path, sizeof(path), "/kobj/sched/tasks/%s/class", e->d_name);
        v = read_file(path);
        mine += v && !strcmp(v, "interactive\n") ? 100 : 0;
    }
    if (dir)
        closedir(dir);
    vktest_check(mine == 111, "sched_own_task_pid_resident_class", "fields");
    /* /mem: slab caches and this process's resident memory. */
    v = read_file("/kobj/mem/slab/kmalloc-64/object_size");
    vktest_check(v && !strcmp(v, "64\n"), "mem_slab_object_size", v ? v : strerror(errno));
    snprintf(path, sizeof(path), "/kobj/mem/processes/%d/resident", getpid());
    v = read_file(path);
    vktest_check(v && strtoull(v, NULL, 10) >= 4096, "mem_process_resident", v ? v : strerror(errno));
    /* /kernel/log/route through the file, and back. */
    v = read_file("/kobj/kernel/log/route");
    char was[32] = "";
    if (v)
        snprintf(was, sizeof(was), "%s", v);
    vktest_check(v && (!strcmp(v, "serial\n") || !strcmp(v, "both\n")), "log_route_reads", v ? v : "");
    vktest_check(write_file("/kobj/kernel/log/route", "both\n") == 0 &&
                 (v = read_file("/kobj/kernel/log/route")) && !strcmp(v, "both\n"),
                 "log_route_set_both", "not both");
    vktest_check(write_file("/kobj/kernel/log/route", "nowhere") == EINVAL, "log_route_bad_einval",
                 "expected EINVAL");
    write_file("/kobj/kernel/log/route", was);
    check_rpc("panic_get_not_readable", "{\"op\":\"get\",\"path\":\"/kernel/panic\"}",
              "\"error\":\"not_readable\"");
}

static void watch(void)
{
    const char *reply = rpc("{\"op\":\"watch\",\"path\":\"/kernel/uptime_ns\","
                            "\"interval_ms\":20,\"count\":3}");
    int samples = 0;
    for (const char *p = reply; (p = strstr(p, "\"t_ns\":")); p++)
        samples++;
    vktest_check(samples == 3, "watch_three_samples", reply);
    check_rpc("watch_count_out_of_range",
              "{\"op\":\"watch\",\"path\":\"/mem/free\",\"count\":1000}",
              "\"error\":\"out_of_range\"");
    check_rpc("watch_interval_wrong_type",
              "{\"op\":\"watch\",\"path\":\"/mem/free\",\"interval_ms\":true}",
              "\"error\":\"wrong_type\"");
    vktest_check(run_vkobj("watch", "/kernel/uptime_ns", "10", "3") == 0, "vkobj_watch_ok", "status");
    vktest_check(run_vkobj("watch", "/kernel/uptime_ns", "5", "3") == 3, "vkobj_watch_interval_3",
                 "status");
    vktest_check(run_vkobj("watch", "/no/such", "10", "1") == 2, "vkobj_watch_not_found_2", "status");
    vktest_check(run_vkobj("rpc", "{\"op\":\"get\"", NULL, NULL) == 5, "vkobj_rpc_bad_request_5",
                 "status");
}

/* True when text holds what looks like a kernel address: hex with the kernel half's
 * prefix, or a decimal in [0xffff800000000000, 0xfffffffffffff000) (the top page is
 * -1 and small negative numbers printed unsigned). */
static int shows_kernel_address(const char *text)
{
    if (strstr(text, "ffff8") || strstr(text, "ffffffff8"))
        return 1;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9' || (p > text && p[-1] >= '0' && p[-1] <= '9'))
            continue;
        errno = 0;
        unsigned long long v = strtoull(p, NULL, 10);
        if (!errno && v >= 0xffff800000000000ull && v < 0xfffffffffffff000ull)
            return 1;
    }
    return 0;
}

/* Reads every readable file under dir; returns how many it read, and the path of the
 * first that shows a kernel address in *bad. */
static int walk_for_addresses(const char *dir, char *bad, size_t bad_size, int depth)
{
    DIR *d = opendir(dir);
    if (!d || depth > 8)
        return d ? (closedir(d), 0) : 0;
    int n = 0;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            n += walk_for_addresses(path, bad, bad_size, depth + 1);
        } else if (read_file(path)) {
            n++;
            if (!bad[0] && shows_kernel_address(buf))
                snprintf(bad, bad_size, "%s: %.100s", path, buf);
        }
    }
    closedir(d);
    return n;
}

static void no_kernel_addresses(void)
{
    char bad[256] = "";
    int n = walk_for_addresses("/kobj", bad, sizeof(bad), 0);
    vktest_check(n > 50, "kobj_walk_read_every_file", "fewer than 50 files read");
    vktest_check(!bad[0], "kobj_no_kernel_addresses_anywhere", bad);
}

int main(void)
{
    files();
    no_kernel_addresses();
    rpc_errors();
    write_right();
    new_nodes();
    watch();
    tool();
    return vktest_finish("test-kobj");
}
