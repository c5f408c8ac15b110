/* SPDX-License-Identifier: MIT */
/*
 * Kernel logging: leveled lines to the serial port and/or the framebuffer console,
 * also kept in a ring buffer. Safe to call from any context once log_init has run;
 * before that, output goes to COM1 only.
 */
#ifndef KERNEL_CORE_LOG_H
#define KERNEL_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOG_LEVEL_DEBUG 0
#define LOG_LEVEL_INFO  1
#define LOG_LEVEL_WARN  2
#define LOG_LEVEL_ERROR 3

/* Where console output goes (console= on the command line). */
#define LOG_ROUTE_SERIAL 1u
#define LOG_ROUTE_FB     2u

void log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vwrite(int level, const char *fmt, va_list ap);
/* Raw console output: no level filter, no prefix. Used by panic and test reports. */
void log_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_puts(const char *s);
/* Terminal output (kernel/tty): the bytes as they are to the console routes, not kept
 * in the log ring. */
void log_console_write(const char *s, size_t n);

void log_set_level(int level);
int log_level(void);
void log_set_route(unsigned route);
unsigned log_route(void);

/* A rate limit for lines that programs can cause (their own messages through
 * vk_log_write, reports of calls they make or faults they take), so no program can
 * flood the console: at most LOG_RATELIMIT_BURST lines per LOG_RATELIMIT_WINDOW_NS.
 * Zero-initialise; any CPU may call (one internal lock serialises every state). */
typedef struct {
    uint64_t window_start_ns;
    uint32_t used;       /* lines allowed in this window */
    uint32_t suppressed; /* lines dropped since the last one allowed */
} log_ratelimit_t;

#define LOG_RATELIMIT_WINDOW_NS 5000000000ull
#define LOG_RATELIMIT_BURST     50u

/* True when a line may go out now; *suppressed becomes the number dropped before it
 * (usually 0), for the caller to mention. */
bool log_ratelimit(log_ratelimit_t *rl, uint32_t *suppressed);
/* log_write through a rate limit of its own call site. */
#define log_write_ratelimited(level, ...)                                                 \
    do {                                                                                  \
        static log_ratelimit_t rl_;                                                       \
        uint32_t dropped_;                                                                \
        if (log_ratelimit(&rl_, &dropped_)) {                                             \
            if (dropped_)                                                                 \
                log_write(level, "(%u lines like the next suppressed)", dropped_);       \
            log_write(level, __VA_ARGS__);                                                \
        }                                                                                 \
    } while (0)

/* The clock used for timestamps (set once timers run; 0 before). */
void log_set_clock(uint64_t (*fn)(void));
/* From now on, write without taking the log lock (panic only). */
void log_enter_panic(void);

#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
