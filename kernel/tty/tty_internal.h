/* SPDX-License-Identifier: MIT */
/* Between the files of kernel/tty: the terminal itself. Everything else uses tty.h. */
#ifndef KERNEL_TTY_TTY_INTERNAL_H
#define KERNEL_TTY_TTY_INTERNAL_H

#include "tty/tty.h"
#include "core/spinlock.h"
#include "sched/sched.h"

#define RAW_SIZE   1024
#define READY_SIZE 4096
#define EDIT_SIZE  4096
#define DELIM_MAX  64
#define ECHO_SIZE  2048

struct tty {
    char name[16];
    tty_output_t output;
    void *device;
    void (*poll_device)(tty_t *t); /* input without interrupts: called every poll_ns */
    uint64_t poll_ns;

    spinlock_t raw_lock;           /* guards raw_* and stopping; interrupts off */
    char raw[RAW_SIZE];
    uint64_t raw_in, raw_out;      /* bytes ever queued / taken by the worker */
    uint64_t raw_done;             /* ... and through the discipline */
    bool stopping;
    sched_wait_queue_t worker_wakeup;
    sched_wait_queue_t drained;    /* woken as raw_done moves */
    sched_thread_t *worker;

    spinlock_t lock;               /* guards everything below */
    tty_termios_t termios;
    char edit[EDIT_SIZE];
    unsigned edit_len;
    bool literal_next;             /* VLNEXT seen: the next byte is plain data */
    char ready[READY_SIZE];
    uint64_t ready_in, ready_out;
    uint64_t delims[DELIM_MAX];
    unsigned delim_first, delim_count;
    uint64_t last_input_ns;
    sched_wait_queue_t readers;
    uint32_t sid, foreground_pgid; /* 0: no session */
    bool hung_up;                  /* the device went away: reads end, writes fail */
    uint16_t rows, cols;
    tty_stats_t stats;

    char echo[ECHO_SIZE];          /* the worker's, filled under lock */
    size_t echo_len;
    sched_mutex_t output_lock;     /* one writer at a time on the device */
    /* Files opened (through /dev/tty; false refuses) and closed on this terminal: a
     * pseudo-terminal counts them. */
    bool (*file_opened)(tty_t *t);
    void (*file_closed)(tty_t *t);
};

/* A terminal with default modes and no worker yet; tty_start starts the worker. */
tty_t *tty_alloc(const char *name, tty_output_t output, void *device);
bool tty_start(tty_t *t);

#endif
