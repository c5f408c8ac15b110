/* SPDX-License-Identifier: MIT */
/* vkernel-range syscalls behind vk_api_t entries that are not elsewhere. */
#include "sys/syscall.h"
#include "proc/proc.h"
#include "mm/usercopy.h"
#include "core/kernel.h"
#include "core/log.h"
#include "core/string.h"
#include <vk/vk.h>
#include "config.h"

long sys_vk_log_write(const syscall_args_t *a)
{
    char text[CONFIG_LOG_LINE_MAX - 64];
    uint64_t len = a->arg[1] < sizeof(text) - 1 ? a->arg[1] : sizeof(text) - 1;
    int err = usercopy_from(text, a->arg[0], len);
    if (err)
        return err;
    text[len] = 0;
    while (len && text[len - 1] == '\n')
        text[--len] = 0;
    /* One line, no terminal escapes: a program must not be able to forge kernel log
     * lines or repaint the console. */
    for (uint64_t i = 0; i < len; i++)
        if ((uint8_t)text[i] < 0x20 || (uint8_t)text[i] == 0x7f)
            text[i] = '?';
    /* Each process gets LOG_RATELIMIT_BURST lines per window; the rest are dropped (and
     * counted in the next line that goes out), but the call still succeeds, as a write
     * to Linux's rate-limited /dev/kmsg does. */
    process_t *p = proc_current();
    uint32_t dropped;
    bool allowed = log_ratelimit(&p->log_budget, &dropped);
    if (allowed && dropped)
        log_info("%s[%u]: (%u lines suppressed: more than %u in %llu s)", p->name, p->pid,
                 dropped, LOG_RATELIMIT_BURST,
                 (unsigned long long)(LOG_RATELIMIT_WINDOW_NS / 1000000000ull));
    if (allowed)
        log_info("%s[%u]: %s", p->name, p->pid, text);
    return (long)a->arg[1];
}

long sys_vk_framebuffer_info(const syscall_args_t *a)
{
    const vk_boot_framebuffer_t *fb = &kernel_boot_info()->framebuffer;
    if (!fb->base)
        return -VK_ENODEV;
    vk_fb_info_t info;
    memset(&info, 0, sizeof(info));
    info.width = fb->width;
    info.height = fb->height;
    info.pitch = fb->pitch;
    info.format = fb->format;
    return usercopy_to(a->arg[0], &info, sizeof(info));
}
