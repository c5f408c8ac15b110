/* SPDX-License-Identifier: MIT */
/*
 * vkernel's UEFI loader (\EFI\BOOT\BOOTX64.EFI). It reads \boot\vkernel.elf, the
 * command line \boot\cmdline and the boot modules from the ESP, validates the kernel
 * ELF, copies its segments into fresh pages, records the framebuffer, the ACPI RSDP and
 * the memory map, builds the kernel's page tables (src/boot/paging.c), exits boot
 * services and jumps to the kernel with a vk_boot_info_t (include/vk/boot.h).
 *
 * Every failure before ExitBootServices is printed (the firmware mirrors its console to
 * the serial port), left on screen for ten seconds, and returned to the firmware: never
 * a silent hang. See docs/boot.md.
 */
#include "loader.h"
#include "lib/elf64.h"
#include "lib/fmt.h"
#include <stdarg.h>

#define KERNEL_PATH      "\\boot\\vkernel.elf"
#define CMDLINE_PATH     "\\boot\\cmdline"
#define MODULE_TABLE_PAGES 4 /* 204 boot modules: programs, their maps, scripts */
#define BOOT_STACK_PAGES 8
#define KERNEL_MAX_SIZE  (256ull << 20)
/* Descriptors the map may grow by between sizing and exit: every boot module and page
 * allocation after sizing can split a free run in two. */
#define MEMORY_MAP_SLACK 256

efi_system_table_t *loader_st;
efi_handle_t loader_image;

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

void loader_zero(void *p, uint64_t n)
{
    unsigned char *c = p;
    while (n--)
        *c++ = 0;
}

void loader_copy(void *dst, const void *src, uint64_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
}

/* The compiler may emit calls to these for struct copies and initialisers. */
void *memset(void *p, int c, size_t n)
{
    unsigned char *d = p;
    while (n--)
        *d++ = (unsigned char)c;
    return p;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    loader_copy(dst, src, n);
    return dst;
}

static void vprint(const char *fmt, va_list ap)
{
    char line[256];
    char16_t_ wide[256];
    fmt_vsnprintf(line, sizeof(line), fmt, ap);
    unsigned i = 0;
    for (; line[i]; i++)
        wide[i] = (unsigned char)line[i];
    wide[i] = 0;
    loader_st->con_out->output_string(loader_st->con_out, wide);
}

void loader_print(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
}

efi_status_t loader_fail(efi_status_t status, const char *fmt, ...)
{
    va_list ap;
    loader_print("vkernel loader: error: ");
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
    loader_print("\r\nvkernel loader: cannot boot (status 0x%llx); returning to the firmware in 10 s\r\n",
                 (unsigned long long)status);
    loader_st->boot_services->stall(10 * 1000 * 1000);
    return status;
}

void *loader_alloc_pages(uint64_t pages)
{
    uint64_t addr = 0;
    if (EFI_IS_ERROR(loader_st->boot_services->allocate_pages(EFI_ALLOCATE_ANY_PAGES,
                                                              EFI_VKERNEL_MEMORY, pages, &addr)))
        return NULL;
    return (void *)addr;
}

void *loader_alloc_pages_below(uint64_t pages, uint64_t max_address)
{
    uint64_t addr = max_address;
    if (EFI_IS_ERROR(loader_st->boot_services->allocate_pages(EFI_ALLOCATE_MAX_ADDRESS,
                                                              EFI_VKERNEL_MEMORY, pages, &addr)))
        return NULL;
    return (void *)addr;
}

static bool guid_equal(const efi_guid_t *a, const efi_guid_t *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (unsigned i = 0; i < sizeof(*a); i++)
        if (x[i] != y[i])
            return false;
    return true;
}

static uint64_t find_rsdp(void)
{
    efi_guid_t acpi20 = EFI_ACPI_20_TABLE_GUID, acpi10 = EFI_ACPI_10_TABLE_GUID;
    uint64_t found = 0;
    for (uint64_t i = 0; i < loader_st->number_of_table_entries; i++) {
        efi_configuration_table_t *t = &loader_st->configuration_table[i];
        if (guid_equal(&t->vendor_guid, &acpi20))
            return (uint64_t)t->vendor_table;
        if (guid_equal(&t->vendor_guid, &acpi10))
            found = (uint64_t)t->vendor_table;
    }
    return found;
}

static void find_framebuffer(vk_boot_framebuffer_t *fb)
{
    efi_guid_t gop_guid = EFI_GOP_GUID;
    efi_gop_t *gop;
    loader_zero(fb, sizeof(*fb));
    if (EFI_IS_ERROR(loader_st->boot_services->locate_protocol(&gop_guid, NULL, (void **)&gop)) ||
        !gop->mode || !gop->mode->info) {
        loader_print("vkernel loader: no graphics output; serial console only\r\n");
        return;
    }
    efi_gop_mode_info_t *info = gop->mode->info;
    if (info->pixel_format != EFI_PIXEL_BGRX && info->pixel_format != EFI_PIXEL_RGBX) {
        loader_print("vkernel loader: unsupported pixel format %u; serial console only\r\n",
                     info->pixel_format);
        return;
    }
    fb->base = gop->mode->frame_buffer_base;
    fb->size = gop->mode->frame_buffer_size;
    fb->width = info->horizontal_resolution;
    fb->height = info->vertical_resolution;
    fb->pitch = info->pixels_per_scan_line * 4;
    fb->format = info->pixel_format == EFI_PIXEL_BGRX ? VK_FB_FORMAT_BGRX : VK_FB_FORMAT_RGBX;
}

/* Loads and validates the kernel; fills the image fields of info and maps its segments. */
static efi_status_t load_kernel(vk_boot_info_t *info, loader_tables_t *tables, uint64_t *entry)
{
    void *file;
    uint64_t size;
    efi_status_t s = loader_read_file(KERNEL_PATH, &file, &size);
    if (EFI_IS_ERROR(s))
        return loader_fail(s, "cannot read %s (missing from the ESP?)", KERNEL_PATH);

    elf64_policy_t policy = {
        .type = ELF64_ET_EXEC,
        .vaddr_min = VK_BOOT_KERNEL_BASE,
        .vaddr_max = 0xfffffffffffff000ull,
        .max_image_size = KERNEL_MAX_SIZE,
        .allow_interp = false,
    };
    elf64_image_t img;
    elf64_error_t err = elf64_check(file, size, &policy, &img);
    if (err != ELF64_OK)
        return loader_fail(EFI_LOAD_ERROR, "%s is not a valid kernel: %s", KERNEL_PATH,
                           elf64_error_string(err));

    uint64_t span = img.vaddr_hi - img.vaddr_lo;
    unsigned char *phys = loader_alloc_pages(span / 4096);
    if (!phys)
        return loader_fail(EFI_OUT_OF_RESOURCES, "no memory for the kernel image (%llu KiB)",
                           (unsigned long long)(span >> 10));
    loader_zero(phys, span);
    for (unsigned i = 0; i < img.phnum; i++) {
        elf64_phdr_t ph;
        elf64_phdr_get(&img, i, &ph);
        if (ph.type != ELF64_PT_LOAD)
            continue;
        loader_copy(phys + (ph.vaddr - img.vaddr_lo), (unsigned char *)file + ph.offset, ph.filesz);
        uint64_t lo = ph.vaddr & ~4095ull;
        uint64_t hi = (ph.vaddr + ph.memsz + 4095) & ~4095ull;
        s = loader_paging_map(tables, lo, (uint64_t)phys + (lo - img.vaddr_lo), hi - lo,
                              (ph.flags & ELF64_PF_W) != 0, (ph.flags & ELF64_PF_X) != 0);
        if (EFI_IS_ERROR(s))
            return loader_fail(s, "out of memory building page tables");
    }
    loader_st->boot_services->free_pages((uint64_t)file, (size + 4095) / 4096);
    info->kernel_phys_base = (uint64_t)phys;
    info->kernel_phys_size = span;
    info->kernel_virt_base = img.vaddr_lo;
    *entry = img.entry;
    return EFI_SUCCESS;
}

static char *load_cmdline(void)
{
    void *data;
    uint64_t size;
    char *line = loader_alloc_pages(1);
    if (!line)
        return NULL;
    line[0] = 0;
    if (EFI_IS_ERROR(loader_read_file(CMDLINE_PATH, &data, &size)))
        return line; /* no command line: defaults */
    if (size > 4095) {
        loader_print("vkernel loader: %s longer than 4095 bytes; truncated\r\n", CMDLINE_PATH);
        size = 4095;
    }
    loader_copy(line, data, size);
    line[size] = 0;
    /* One logical line: newlines become spaces, trailing whitespace goes. */
    for (uint64_t i = 0; i < size; i++)
        if (line[i] == '\n' || line[i] == '\r' || line[i] == '\t')
            line[i] = ' ';
    while (size && line[size - 1] == ' ')
        line[--size] = 0;
    return line;
}

static uint32_t convert_type(uint32_t efi_type)
{
    switch (efi_type) {
    case EFI_CONVENTIONAL_MEMORY:
    case EFI_BOOT_SERVICES_CODE:
    case EFI_BOOT_SERVICES_DATA:
        return VK_MEM_USABLE;
    case EFI_LOADER_CODE_MEMORY:
    case EFI_LOADER_DATA_MEMORY:
        return VK_MEM_LOADER;
    case EFI_ACPI_RECLAIM_MEMORY: return VK_MEM_ACPI_RECLAIM;
    case EFI_ACPI_MEMORY_NVS: return VK_MEM_ACPI_NVS;
    case EFI_RUNTIME_SERVICES_CODE:
    case EFI_RUNTIME_SERVICES_DATA:
        return VK_MEM_RUNTIME;
    case EFI_UNUSABLE_MEMORY: return VK_MEM_BAD;
    case EFI_VKERNEL_MEMORY: return VK_MEM_KERNEL;
    default: return VK_MEM_RESERVED;
    }
}

static bool is_ram(uint32_t efi_type)
{
    return efi_type != EFI_MEMORY_MAPPED_IO && efi_type != EFI_MEMORY_MAPPED_IO_PORT_SPACE &&
           efi_type != EFI_RESERVED_MEMORY && efi_type != EFI_PAL_CODE;
}

typedef struct {
    efi_memory_descriptor_t *buf;
    uint64_t capacity, size, key, desc_size;
    uint32_t desc_version;
} memory_map_t;

static efi_status_t get_memory_map(memory_map_t *m)
{
    m->size = m->capacity;
    return loader_st->boot_services->get_memory_map(&m->size, m->buf, &m->key, &m->desc_size,
                                                    &m->desc_version);
}

#define DESC(m, i) ((efi_memory_descriptor_t *)((char *)(m)->buf + (i) * (m)->desc_size))

/* Sizes the map and allocates room for it (and for its converted copy) with slack. */
static efi_status_t prepare_memory_map(memory_map_t *m, vk_boot_mem_region_t **regions,
                                       uint64_t *max_regions, uint64_t *ram_top)
{
    m->capacity = 0;
    m->buf = NULL;
    efi_status_t s = get_memory_map(m);
    if (s != EFI_BUFFER_TOO_SMALL)
        return EFI_IS_ERROR(s) ? s : EFI_LOAD_ERROR;
    m->capacity = m->size + MEMORY_MAP_SLACK * m->desc_size;
    m->buf = loader_alloc_pages((m->capacity + 4095) / 4096);
    *max_regions = m->capacity / m->desc_size + MEMORY_MAP_SLACK;
    *regions = loader_alloc_pages((*max_regions * sizeof(vk_boot_mem_region_t) + 4095) / 4096);
    if (!m->buf || !*regions)
        return EFI_OUT_OF_RESOURCES;
    s = get_memory_map(m);
    if (EFI_IS_ERROR(s))
        return s;
    *ram_top = 0;
    for (uint64_t i = 0; i < m->size / m->desc_size; i++) {
        efi_memory_descriptor_t *d = DESC(m, i);
        uint64_t end = d->physical_start + d->number_of_pages * 4096;
        if (is_ram(d->type) && end > *ram_top)
            *ram_top = end;
    }
    return EFI_SUCCESS;
}

/* After ExitBootServices: no firmware calls, no printing. Merges adjacent runs. */
static uint32_t convert_memory_map(const memory_map_t *m, vk_boot_mem_region_t *out, uint64_t max)
{
    uint32_t n = 0;
    for (uint64_t i = 0; i < m->size / m->desc_size; i++) {
        efi_memory_descriptor_t *d = DESC(m, i);
        uint32_t type = convert_type(d->type);
        uint64_t len = d->number_of_pages * 4096;
        if (n && out[n - 1].type == type && out[n - 1].base + out[n - 1].length == d->physical_start) {
            out[n - 1].length += len;
            continue;
        }
        if (n == max)
            break; /* cannot happen: max counts every descriptor plus slack */
        out[n].base = d->physical_start;
        out[n].length = len;
        out[n].type = type;
        out[n]._pad = 0;
        n++;
    }
    return n;
}

__attribute__((noreturn)) static void jump_to_kernel(uint64_t pml4, uint64_t stack_top,
                                                     uint64_t entry, uint64_t info_virt)
{
    /* EFER.NXE (bit 11) must be on before CR3 points at tables with NX bits. */
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080u));
    lo |= 1u << 11;
    __asm__ volatile("wrmsr" ::"c"(0xc0000080u), "a"(lo), "d"(hi));
    __asm__ volatile("cli\n\t"
                     "mov %0, %%cr3\n\t"
                     "mov %1, %%rsp\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "push $0\n\t" /* fake return address: the SysV entry alignment */
                     "jmp *%2\n\t"
                     :
                     : "r"(pml4), "r"(stack_top), "r"(entry), "D"(info_virt)
                     : "memory");
    __builtin_unreachable();
}

efi_status_t efi_main(efi_handle_t image, efi_system_table_t *st)
{
    uint64_t tsc_entry = rdtsc();
    loader_st = st;
    loader_image = image;
    efi_boot_services_t *bs = st->boot_services;
    bs->set_watchdog_timer(0, 0, 0, NULL);
    loader_print("vkernel loader\r\n");

    efi_status_t s = loader_open_volume();
    if (EFI_IS_ERROR(s))
        return loader_fail(s, "cannot open the boot volume");

    vk_boot_info_t *info = loader_alloc_pages(1);
    vk_boot_module_t *modules = loader_alloc_pages(MODULE_TABLE_PAGES);
    unsigned char *stack = loader_alloc_pages(BOOT_STACK_PAGES);
    if (!info || !modules || !stack)
        return loader_fail(EFI_OUT_OF_RESOURCES, "out of memory");
    loader_zero(info, 4096);
    info->magic = VK_BOOT_MAGIC;
    info->version = VK_BOOT_VERSION;
    info->size = sizeof(*info);
    info->tsc_loader_entry = tsc_entry;

    memory_map_t map;
    vk_boot_mem_region_t *regions;
    uint64_t max_regions, ram_top;
    s = prepare_memory_map(&map, &regions, &max_regions, &ram_top);
    if (EFI_IS_ERROR(s))
        return loader_fail(s, "cannot read the memory map");

    /* Direct-map all RAM and at least the low 4 GiB (device windows live there). */
    uint64_t direct = ram_top < (4ull << 30) ? (4ull << 30) : ram_top;
    direct = (direct + (1ull << 30) - 1) & ~((1ull << 30) - 1);
    loader_tables_t tables;
    s = loader_paging_init(&tables, direct);
    if (EFI_IS_ERROR(s))
        return loader_fail(s, "cannot build page tables");
    info->pml4 = tables.pml4;
    info->direct_map_size = tables.direct_map_size;

    uint64_t entry;
    s = load_kernel(info, &tables, &entry);
    if (EFI_IS_ERROR(s))
        return s;

    char *cmdline = load_cmdline();
    if (!cmdline)
        return loader_fail(EFI_OUT_OF_RESOURCES, "out of memory");
    info->cmdline = (uint64_t)cmdline;
    s = loader_load_modules(modules, MODULE_TABLE_PAGES * 4096 / sizeof(vk_boot_module_t),
                            &info->module_count);
    if (EFI_IS_ERROR(s))
        return loader_fail(s, "cannot load boot modules");
    info->modules = (uint64_t)modules;
    info->acpi_rsdp = find_rsdp();
    if (!info->acpi_rsdp)
        loader_print("vkernel loader: warning: no ACPI tables found\r\n");
    /* Below the EBDA and video memory (0xa0000), where a SIPI vector can point. */
    info->smp_trampoline = (uint64_t)loader_alloc_pages_below(VK_BOOT_SMP_TRAMPOLINE_PAGES, 0x9ffff);
    info->uefi_system_table = (uint64_t)st;
    find_framebuffer(&info->framebuffer);
    loader_print("vkernel loader: kernel %llu KiB at 0x%llx, %u modules, cmdline \"%s\"\r\n",
                 (unsigned long long)(info->kernel_phys_size >> 10),
                 (unsigned long long)info->kernel_phys_base, info->module_count, cmdline);

    /* The memory map changes with every allocation above: read it last, then exit. */
    s = get_memory_map(&map);
    if (!EFI_IS_ERROR(s))
        s = bs->exit_boot_services(image, map.key);
    if (EFI_IS_ERROR(s)) {
        /* The map changed under us (a firmware event): the spec allows one more try. */
        s = get_memory_map(&map);
        if (!EFI_IS_ERROR(s))
            s = bs->exit_boot_services(image, map.key);
        if (EFI_IS_ERROR(s))
            return loader_fail(s, "ExitBootServices failed");
    }

    info->memory_map = (uint64_t)regions;
    info->memory_map_count = convert_memory_map(&map, regions, max_regions);
    info->tsc_kernel_jump = rdtsc();
    jump_to_kernel(tables.pml4, (uint64_t)stack + BOOT_STACK_PAGES * 4096 + VK_BOOT_DIRECT_MAP_BASE,
                   entry, (uint64_t)info + VK_BOOT_DIRECT_MAP_BASE);
}
