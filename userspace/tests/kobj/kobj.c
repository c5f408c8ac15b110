/* SPDX-License-Identifier: MIT */
/*
 * KObj from ring 3: /kobj files read and written with plain musl calls, the RPC's
 * answer for each error class, vkobj's exit codes, and setting /kernel/log/level both
 * ways. Prints PASS/FAIL lines and "test-kobj: N passed, N failed".
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

int main(void)
{
    files();
    rpc_errors();
    tool();
    return vktest_finish("test-kobj");
}
