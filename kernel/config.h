/* SPDX-License-Identifier: MIT */
/*
 * Every fixed limit of the kernel, in one place. Code that runs into one of these
 * fails loudly with a message naming the constant.
 */
#ifndef KERNEL_CONFIG_H
#define KERNEL_CONFIG_H

#define CONFIG_MAX_CPUS            16   /* CPUs the kernel will bring up (at most 64: masks) */
#define CONFIG_SMP_START_TIMEOUT_MS 1000 /* a secondary CPU not up by then is skipped */
#define CONFIG_TLB_SHOOTDOWN_MAX_PAGES 32 /* longer ranges flush the whole TLB instead */
#define CONFIG_KERNEL_STACK_PAGES  4    /* 16 KiB kernel stacks, plus one guard page */
#define CONFIG_IST_STACK_PAGES     2    /* stacks for #DF, NMI and #MC */
#define CONFIG_LOG_RING_BYTES      (64 * 1024) /* kernel log ring buffer */
#define CONFIG_LOG_LINE_MAX        256  /* one formatted log line */
#define CONFIG_CMDLINE_MAX         1024 /* kernel command line bytes */
#define CONFIG_CMDLINE_MAX_ARGS    32   /* key[=value] words on the command line */
#define CONFIG_IRQ_VECTORS         256
#define CONFIG_PCI_MAX_DEVICES     256
#define CONFIG_MMIO_WINDOW_BYTES   (64ull << 30) /* virtual space for device mappings */
#define CONFIG_BUDDY_MAX_ORDER     20   /* largest block: 2^20 pages = 4 GiB */
#define CONFIG_TIMER_HZ            100  /* LAPIC tick (one-shot timer, re-armed each time) */
#define CONFIG_WATCHDOG_MS         10000 /* a CPU without a tick, or without a switch while
                                            work waits, this long is reported (KObj
                                            /kernel/watchdog/threshold_ms changes it) */

/* ACPI (kernel/acpi): tables are firmware input; every array is bounded. */
#define CONFIG_ACPI_MAX_TABLES         64  /* tables remembered from the RSDT/XSDT (+DSDT) */
#define CONFIG_ACPI_MAX_MADT_CPUS      256 /* processor entries kept from the MADT */
#define CONFIG_ACPI_MAX_IOAPICS        16
#define CONFIG_ACPI_MAX_IRQ_OVERRIDES  32
#define CONFIG_ACPI_MAX_LAPIC_NMIS     256 /* some firmware lists one per processor */
#define CONFIG_ACPI_MAX_NMI_SOURCES    16
#define CONFIG_ACPI_MAX_MCFG_ENTRIES   16
#define CONFIG_ACPI_MAX_TABLE_BYTES    (16u << 20) /* refuse absurd table lengths */

/* User address spaces (kernel/mm/aspace.c). */
#define CONFIG_USER_STACK_MAX          (8ull << 20) /* how far a stack region grows down */
#define CONFIG_ASPACE_MAX_REGIONS      1024         /* regions per address space */
#define CONFIG_PROC_MAX                64           /* processes alive or unreaped */
#define CONFIG_PROC_THREADS_MAX        256          /* threads of one process */
#define CONFIG_USER_MIN_ADDR           0x10000ull   /* nothing mapped below: NULL stays a fault */

/* Files (kernel/fs). */
#define CONFIG_RAMFS_FILE_MAX          (256ull << 20) /* one ramfs file */
#define CONFIG_EXEC_FILE_MAX           (256ull << 20) /* a program execve reads */

/* Block devices (kernel/block) and virtio (kernel/drivers/virtio, virtio_blk). */
#define CONFIG_BLOCK_MAX_DEVICES       64   /* disks and partitions together */
#define CONFIG_BCACHE_BLOCKS           4096 /* 4 KiB blocks in the block cache (16 MiB) */
#define CONFIG_BLOCK_NAME_MAX          16   /* "vda", "vda12", NUL included */
#define CONFIG_BLOCK_SERIAL_MAX        21   /* virtio-blk GET_ID gives 20 bytes, plus NUL */
#define CONFIG_BLOCK_MAX_PARTITIONS    16   /* partition devices registered per disk */
#define CONFIG_VIRTIO_MAX_DEVICES      16   /* virtio functions driven at once */
#define CONFIG_VIRTIO_QUEUE_SIZE_MAX   256  /* descriptors per virtqueue we ask for */
#define CONFIG_VBLK_MAX_REQUEST_BYTES  (128u * 1024) /* one device request; larger I/O is split */
#define CONFIG_VBLK_QUEUE_DEPTH        16   /* requests in flight per disk, at most */
#define CONFIG_VBLK_POLL_NS            1000000ull    /* polling period without MSI/MSI-X */
#define CONFIG_VBLK_STALL_NS           5000000000ull /* a request this old: warn, poll once */

/* KObj (kernel/kobj): the typed object tree and its JSON RPC. */
#define CONFIG_KOBJ_VALUE_MAX          1024 /* bytes of one value's text (the command line fits) */
#define CONFIG_KOBJ_NAME_MAX           64   /* one path component, NUL included */
#define CONFIG_KOBJ_REQUEST_MAX        4096 /* bytes of one RPC request */
#define CONFIG_KOBJ_REPLY_MAX          (64u * 1024) /* bytes of one RPC reply */
#define CONFIG_KOBJ_WATCH_COUNT_MAX    100  /* samples in one watch request */
#define CONFIG_KOBJ_WATCH_INTERVAL_MIN_MS 10    /* a tick is 1 ms; below 10 it is noise */
#define CONFIG_KOBJ_WATCH_INTERVAL_MAX_MS 60000
#define CONFIG_KOBJ_WATCH_SPAN_MAX_MS  60000 /* (count - 1) * interval: one call's wait */

/* Drivers (kernel/drivers/registry, kernel/drivers/ps2). */
#define CONFIG_DRIVER_MAX              16   /* drivers in the registry (/drivers) */
#define CONFIG_DRIVER_EXTRA_NODES      8    /* KObj nodes a driver adds under /drivers/NAME */
#define CONFIG_PS2_KEY_BYTES           256  /* terminal bytes buffered for ps2_keyboard_read_byte */
#define CONFIG_PS2_KEY_EVENTS          128  /* key events buffered for ps2_key_event_read */
#define CONFIG_PS2_MOUSE_EVENTS        128  /* mouse packets buffered for ps2_mouse_event_read */

#endif
