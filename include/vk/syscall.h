/* SPDX-License-Identifier: MIT */
/*
 * The one list of syscalls. VK_SYSCALLS_LINUX carries Linux x86-64 numbers (unchanged,
 * from arch/x86/entry/syscalls/syscall_64.tbl); VK_SYSCALLS_VK carries vkernel's own
 * calls in their range starting at VK_SYSCALL_BASE. Never renumber, never reuse: append.
 * The kernel builds its dispatch and name tables from these lists; userspace gets the
 * VK_SYS_* numbers.
 */
#ifndef VK_SYSCALL_H
#define VK_SYSCALL_H

#define VK_SYSCALLS_LINUX(X)                                                              \
    X(read, 0) X(write, 1) X(open, 2) X(close, 3) X(stat, 4) X(fstat, 5) X(lstat, 6)      \
    X(poll, 7) X(lseek, 8) X(mmap, 9) X(mprotect, 10) X(munmap, 11) X(brk, 12)            \
    X(rt_sigaction, 13) X(rt_sigprocmask, 14) X(rt_sigreturn, 15) X(ioctl, 16)            \
    X(pread64, 17) X(pwrite64, 18) X(readv, 19) X(writev, 20) X(access, 21) X(pipe, 22)   \
    X(select, 23) X(sched_yield, 24) X(mremap, 25) X(madvise, 28) X(dup, 32) X(dup2, 33)  \
    X(nanosleep, 35) X(getpid, 39) X(clone, 56) X(fork, 57) X(vfork, 58) X(execve, 59)    \
    X(exit, 60) X(wait4, 61) X(kill, 62) X(uname, 63) X(fcntl, 72) X(fsync, 74)           \
    X(fdatasync, 75) X(truncate, 76) X(ftruncate, 77) X(getcwd, 79) X(chdir, 80)          \
    X(fchdir, 81) X(rename, 82) X(mkdir, 83) X(rmdir, 84) X(unlink, 87) X(readlink, 89)   \
    X(umask, 95) X(gettimeofday, 96) X(getrlimit, 97) X(getrusage, 98) X(sysinfo, 99) X(times, 100) X(getuid, 102)       \
    X(getgid, 104) X(geteuid, 107) X(getegid, 108) X(setpgid, 109) X(getppid, 110)        \
    X(getpgrp, 111) X(setsid, 112) X(getpgid, 121) X(getsid, 124) X(rt_sigsuspend, 130)   \
    X(sigaltstack, 131) X(getpriority, 140) X(setpriority, 141) X(sched_setparam, 142)    \
    X(sched_getparam, 143) X(sched_setscheduler, 144) X(sched_getscheduler, 145)          \
    X(sched_get_priority_max, 146) X(sched_get_priority_min, 147)                         \
    X(sched_rr_get_interval, 148) X(arch_prctl, 158) X(setrlimit, 160) X(sync, 162)       \
    X(reboot, 169) X(gettid, 186) X(tkill, 200) X(time, 201) X(futex, 202)                \
    X(sched_setaffinity, 203) X(sched_getaffinity, 204) X(getdents64, 217)                \
    X(set_tid_address, 218) X(clock_gettime, 228) X(clock_getres, 229)                    \
    X(clock_nanosleep, 230) X(exit_group, 231) X(tgkill, 234) X(openat, 257)              \
    X(mkdirat, 258) X(newfstatat, 262) X(unlinkat, 263) X(renameat, 264)                  \
    X(readlinkat, 267) X(faccessat, 269) X(pselect6, 270) X(ppoll, 271)                   \
    X(set_robust_list, 273) X(dup3, 292) X(pipe2, 293) X(prlimit64, 302) X(syncfs, 306)   \
    X(getcpu, 309) X(renameat2, 316) X(getrandom, 318) X(statx, 332) X(rseq, 334)

#define VK_SYSCALL_BASE 0x1000
#define VK_SYSCALLS_VK(X)                                                                 \
    X(vk_log_write, 0x1000) X(vk_framebuffer_info, 0x1001) X(vk_task_snapshot, 0x1002)    \
    X(vk_monotonic_ns, 0x1003) X(vk_yield, 0x1004) X(vk_sleep_ns, 0x1005)                 \
    X(vk_spawn, 0x1006)                                                                   \
    X(vk_kobj_rpc, 0x1007)                                                                \
    X(vk_handle_close, 0x1010) X(vk_handle_duplicate, 0x1011) X(vk_handle_info, 0x1012)   \
    X(vk_channel_create, 0x1013) X(vk_channel_write, 0x1014) X(vk_channel_read, 0x1015)   \
    X(vk_event_create, 0x1016) X(vk_object_signal, 0x1017) X(vk_object_wait, 0x1018)      \
    X(vk_shm_create, 0x1019) X(vk_shm_map, 0x101a) X(vk_ipc_stats, 0x101b)               \
    X(vk_handle_inherit, 0x101c)                                                          \
    X(vk_service_register, 0x101d) X(vk_service_connect, 0x101e)                          \
    X(vk_channel_call, 0x101f) X(vk_handle_fd, 0x1020)                                    \
    X(vk_channel_reply_read, 0x1021) X(vk_service_connect_timeout, 0x1022)

#define VK_SYSCALL_ENUM(name, nr) VK_SYS_##name = nr,
enum { VK_SYSCALLS_LINUX(VK_SYSCALL_ENUM) VK_SYSCALLS_VK(VK_SYSCALL_ENUM) };
#undef VK_SYSCALL_ENUM

#endif
