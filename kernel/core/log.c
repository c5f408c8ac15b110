/* SPDX-License-Identifier: MIT */
/*
 * Kernel log: formats a line, stamps it with the monotonic clock, keeps it in a ring
 * buffer (for `vk-log` in gdb and KObj later) and writes it to the routes that are on.
 * One lock serialises lines so they never interleave; panic() breaks the lock so a
 * CPU that died holding it cannot silence the report.
 */
#include "core/log.h"
#include "core/spinlock.h"
#include "core/string.h"
#include "drivers/serial/serial.h"
#include "drivers/fbcon/fbcon.h"
#include "lib/fmt.h"
#include "config.h"

/* Guarded by lock. */
static spinlock_t lock = SPINLOCK_INIT;
static char ring[CONFIG_LOG_RING_BYTES];
static uint64_t ring_written; /* total bytes ever written; ring index = written % size */

static int min_level = LOG_LEVEL_INFO;
static unsigned route = LOG_ROUTE_SERIAL | LOG_ROUTE_FB;
static uint64_t (*clock_ns)(void);
static bool panicking;

/* Exported for the gdb helper (vk-log) and KObj. */
const char *const log_ring = ring;
const uint64_t log_ring_size = sizeof(ring);

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(int level)
{
    if (level >= LOG_LEVEL_DEBUG && level <= LOG_LEVEL_ERROR)
        min_level = level;
}

int log_level(void) { return min_level; }
void log_set_route(unsigned r) { route = r & (LOG_ROUTE_SERIAL | LOG_ROUTE_FB); }
unsigned log_route(void) { return route; }
void log_set_clock(uint64_t (*fn)(void)) { clock_ns = fn; }
void log_enter_panic(void) { panicking = true; }

uint64_t log_ring_written(void) { return ring_written; }

static void emit(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ring[(ring_written + i) % sizeof(ring)] = s[i];
    ring_written += n;
    if (route & LOG_ROUTE_SERIAL)
        serial_write(s, n);
    if (route & LOG_ROUTE_FB)
        fbcon_write(s, n);
}

static void emit_locked(const char *s, size_t n)
{
    if (panicking) {
        emit(s, n);
        return;
    }
    uint64_t f = spinlock_lock_irqsave(&lock);
    emit(s, n);
    spinlock_unlock_irqrestore(&lock, f);
}

void log_vwrite(int level, const char *fmt, va_list ap)
{
    if (level < min_level)
        return;
    char line[CONFIG_LOG_LINE_MAX];
    uint64_t ns = clock_ns ? clock_ns() : 0;
    int n = fmt_snprintf(line, sizeof(line), "[%5llu.%06llu] %s: ",
                         (unsigned long long)(ns / 1000000000ull),
                         (unsigned long long)(ns / 1000ull % 1000000ull),
                         level_names[level < 0 ? 0 : level > 3 ? 3 : level]);
    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;
    int m = fmt_vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    size_t len = (size_t)n + ((size_t)m < sizeof(line) - n - 1 ? (size_t)m : sizeof(line) - n - 2);
    line[len++] = '\n';
    emit_locked(line, len);
}

void log_write(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, fmt, ap);
    va_end(ap);
}

static spinlock_t ratelimit_lock = SPINLOCK_INIT;

bool log_ratelimit(log_ratelimit_t *rl, uint32_t *suppressed)
{
    uint64_t now = clock_ns ? clock_ns() : 0;
    bool allowed = false;
    *suppressed = 0;
    uint64_t f = spinlock_lock_irqsave(&ratelimit_lock);
    if (!rl->window_start_ns || now - rl->window_start_ns >= LOG_RATELIMIT_WINDOW_NS) {
        rl->window_start_ns = now ? now : 1;
        rl->used = 0;
    }
    if (rl->used < LOG_RATELIMIT_BURST) {
        rl->used++;
        *suppressed = rl->suppressed;
        rl->suppressed = 0;
        allowed = true;
    } else {
        rl->suppressed++;
    }
    spinlock_unlock_irqrestore(&ratelimit_lock, f);
    return allowed;
}

void log_printf(const char *fmt, ...)
{
    char buf[CONFIG_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    emit_locked(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void log_console_write(const char *s, size_t n)
{
    /* In pieces, so interrupts are never off for long while a big write draws. */
    while (n) {
        size_t piece = n < 256 ? n : 256;
        uint64_t f = panicking ? 0 : spinlock_lock_irqsave(&lock);
        if (route & LOG_ROUTE_SERIAL)
            serial_write_raw(s, piece);
        if (route & LOG_ROUTE_FB)
            fbcon_write(s, piece);
        if (!panicking)
            spinlock_unlock_irqrestore(&lock, f);
        s += piece;
        n -= piece;
    }
}

void log_puts(const char *s)
{
    emit_locked(s, strlen(s));
}
