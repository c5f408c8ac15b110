/* SPDX-License-Identifier: MIT */
/*
 * The vk_api_t page: the table (include/vk/vk.h) followed by the stubs it points at.
 * It is assembled once into the kernel's rodata and copied to VK_API_USER_ADDR in every
 * process, so its pointers are absolute user addresses computed here. Each stub moves
 * the call's vkernel syscall number into RAX and issues SYSCALL; arguments are already
 * where the syscall ABI wants them (RDI, RSI, RDX), except vk_api->syscall, which
 * shifts its seven arguments into place (the seventh is on the stack).
 */
#define VK_API_USER_ADDR 0x00007ffff7f00000
#define ENTRY(stub) .quad VK_API_USER_ADDR + (stub - vkapi_page_start)

    .section .rodata
    .balign 4096
    .globl vkapi_page_start, vkapi_page_end
vkapi_page_start:
    .quad 0x3149504b56              /* signature "VKPI1" */
    .long 5                         /* revision (VK_API_REVISION) */
    .long vkapi_table_end - vkapi_page_start
    .long 0, 0
    ENTRY(stub_log_write)
    ENTRY(stub_framebuffer_info)
    ENTRY(stub_task_snapshot)
    ENTRY(stub_monotonic_ns)
    ENTRY(stub_yield)
    ENTRY(stub_sleep_ns)
    ENTRY(stub_spawn)
    ENTRY(stub_syscall)
    ENTRY(stub_kobj_rpc)            /* revision 2 */
    ENTRY(stub_handle_close)        /* revision 3 */
    ENTRY(stub_handle_duplicate)
    ENTRY(stub_handle_info)
    ENTRY(stub_channel_create)
    ENTRY(stub_channel_write)
    ENTRY(stub_channel_read)
    ENTRY(stub_event_create)
    ENTRY(stub_object_signal)
    ENTRY(stub_object_wait)
    ENTRY(stub_shm_create)
    ENTRY(stub_shm_map)
    ENTRY(stub_ipc_stats)
    ENTRY(stub_handle_inherit)
    ENTRY(stub_service_register)    /* revision 4 */
    ENTRY(stub_service_connect)
    ENTRY(stub_channel_call)
    ENTRY(stub_handle_fd)
    ENTRY(stub_channel_reply_read)  /* revision 5 */
    ENTRY(stub_service_connect_timeout)
vkapi_table_end:

.macro STUB name, nr
stub_\name:
    movl $\nr, %eax
    syscall
    ret
.endm

    STUB log_write, 0x1000
    STUB framebuffer_info, 0x1001
    STUB task_snapshot, 0x1002
    STUB monotonic_ns, 0x1003
    STUB yield, 0x1004
    STUB sleep_ns, 0x1005
    STUB spawn, 0x1006
    STUB handle_close, 0x1010
    STUB handle_duplicate, 0x1011
    STUB handle_info, 0x1012
    STUB channel_create, 0x1013
    STUB channel_write, 0x1014
    STUB channel_read, 0x1015
    STUB event_create, 0x1016
    STUB object_signal, 0x1017
    STUB object_wait, 0x1018
    STUB shm_create, 0x1019
    STUB shm_map, 0x101a
    STUB ipc_stats, 0x101b
    STUB handle_inherit, 0x101c
    STUB service_connect, 0x101e
    STUB channel_call, 0x101f
    STUB handle_fd, 0x1020
    STUB channel_reply_read, 0x1021
    STUB service_connect_timeout, 0x1022

/* Four arguments: the fourth comes in RCX and the syscall ABI wants it in R10. */
stub_kobj_rpc:
    movq %rcx, %r10
    movl $0x1007, %eax
    syscall
    ret

stub_service_register:
    movq %rcx, %r10
    movl $0x101d, %eax
    syscall
    ret

stub_syscall:
    movq %rdi, %rax
    movq %rsi, %rdi
    movq %rdx, %rsi
    movq %rcx, %rdx
    movq %r8, %r10
    movq %r9, %r8
    movq 8(%rsp), %r9
    syscall
    ret

    .balign 4096
vkapi_page_end:
