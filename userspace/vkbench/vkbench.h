/* SPDX-License-Identifier: MIT */
/*
 * vkbench: microbenchmarks that run unchanged on vkernel and on Linux (one static musl
 * binary, Linux syscalls only). This header is shared by the harness (vkbench.c) and the
 * benchmark groups (bench_ipc.c, bench_proc.c, bench_mem.c, bench_smp.c,
 * bench_disk.c).
 *
 * A benchmark is a function that sets up, brackets its timed loop with vkbench_start()
 * and vkbench_stop(), tears down, and returns true; or returns false through
 * vkbench_unavailable() with the reason (a syscall that failed, usually ENOSYS). The
 * harness then prints `name n/a reason`, never a number.
 */
#ifndef VKBENCH_H
#define VKBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VKBENCH_REASON_MAX 120
#define VKBENCH_MIB        (1024ul * 1024ul)
#define VKBENCH_PAGE_SIZE  4096ul

typedef struct vkbench_run {
    /* Set by vkbench_start/vkbench_stop around the timed part. */
    uint64_t tsc_start;
    uint64_t tsc_elapsed;
    int64_t ns_start;
    int64_t ns_elapsed;
    uint64_t ops;            /* operations timed (pages, MiB, round trips...) */
    bool started;
    char reason[VKBENCH_REASON_MAX];
} vkbench_run_t;

typedef struct vkbench {
    const char *name;
    const char *per;         /* the unit of one op: "op", "page", "MiB" */
    uint64_t repeat;         /* full-run repeat count; --quick divides it by 20 */
    bool (*run)(vkbench_run_t *run, uint64_t repeat);
    const char *what;        /* one line for --list */
} vkbench_t;

/* The harness (vkbench.c). */
void vkbench_start(vkbench_run_t *run);
void vkbench_stop(vkbench_run_t *run, uint64_t ops);
bool vkbench_unavailable(vkbench_run_t *run, const char *what, int err);
const char *vkbench_self_path(void);  /* argv[0], for the exec benchmarks */
char **vkbench_environ(void);
/* waitpid for one child; true when it exited with status 0. */
bool vkbench_reap(int pid);

/* Argument that makes vkbench exit 0 at once: the child of the exec benchmarks. */
#define VKBENCH_EXEC_CHILD_ARG "--exec-child"

/* A pthread_create failure as a reason; names clone when the kernel has none. */
bool vkbench_thread_unavailable(vkbench_run_t *run, int err);

/* Benchmark groups. */
bool vkbench_getpid(vkbench_run_t *run, uint64_t repeat);
bool vkbench_sched_yield(vkbench_run_t *run, uint64_t repeat);
bool vkbench_pipe_1byte(vkbench_run_t *run, uint64_t repeat);
bool vkbench_pipe_pingpong_procs(vkbench_run_t *run, uint64_t repeat);
bool vkbench_sched_yield_threads(vkbench_run_t *run, uint64_t repeat);
bool vkbench_futex_pingpong_threads(vkbench_run_t *run, uint64_t repeat);
bool vkbench_channel_pingpong_procs(vkbench_run_t *run, uint64_t repeat);
bool vkbench_channel_call_procs(vkbench_run_t *run, uint64_t repeat);
/* vkernel channels (bench_ipc.c): vk_api with the entries up to entry_end (an offsetof
 * end), else NULL after vkbench_unavailable; a forked child that runs child(api, its
 * end) and exits with its result, the parent's end in *mine (-1 and n/a on failure). */
struct vk_api;
struct vk_api *vkbench_vk_api(vkbench_run_t *run, size_t entry_end);
int vkbench_fork_channel_child(vkbench_run_t *run, struct vk_api *api, uint32_t *mine,
                               int (*child)(struct vk_api *api, uint32_t h));
/* bench_handles.c */
bool vkbench_channel_call_rr_procs(vkbench_run_t *run, uint64_t repeat);
bool vkbench_channel_send_4k(vkbench_run_t *run, uint64_t repeat);
bool vkbench_shm_transfer_1m(vkbench_run_t *run, uint64_t repeat);
bool vkbench_handle_transfer(vkbench_run_t *run, uint64_t repeat);
bool vkbench_scm_rights_transfer(vkbench_run_t *run, uint64_t repeat);

bool vkbench_fork_exit_wait(vkbench_run_t *run, uint64_t repeat);
bool vkbench_fork_exec_wait(vkbench_run_t *run, uint64_t repeat);
bool vkbench_posix_spawn_wait(vkbench_run_t *run, uint64_t repeat);
bool vkbench_vk_spawn_wait(vkbench_run_t *run, uint64_t repeat);
bool vkbench_thread_create_join(vkbench_run_t *run, uint64_t repeat);

bool vkbench_page_fault(vkbench_run_t *run, uint64_t repeat);
bool vkbench_mmap_munmap_1m(vkbench_run_t *run, uint64_t repeat);
bool vkbench_mmap_munmap_4k(vkbench_run_t *run, uint64_t repeat);
bool vkbench_memcpy_16m(vkbench_run_t *run, uint64_t repeat);
bool vkbench_file_read_16m(vkbench_run_t *run, uint64_t repeat);
bool vkbench_futex_pingpong_cpus(vkbench_run_t *run, uint64_t repeat); /* needs 2 CPUs */
/* bench_smp.c: the parallel speed-up. */
bool vkbench_cpu_job_1thread(vkbench_run_t *run, uint64_t repeat);
bool vkbench_cpu_job_2threads(vkbench_run_t *run, uint64_t repeat);
/* bench_disk.c: on a disk filesystem ($VKBENCH_DISK_DIR, else /vkbench). */
bool vkbench_disk_write_64m(vkbench_run_t *run, uint64_t repeat);
bool vkbench_disk_read_64m(vkbench_run_t *run, uint64_t repeat);
bool vkbench_disk_rand_read_4k(vkbench_run_t *run, uint64_t repeat);
bool vkbench_disk_create_small(vkbench_run_t *run, uint64_t repeat);
bool vkbench_disk_list_dir(vkbench_run_t *run, uint64_t repeat);
/* As Linux's pid 1 with the modules bench-linux.sh packs: loads them and mounts the
 * disk's data partition (vfat), pointing $VKBENCH_DISK_DIR there. Elsewhere nothing. */
void vkbench_disk_linux_setup(void);

#endif
