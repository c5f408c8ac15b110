/* SPDX-License-Identifier: MIT */
/*
 * Reading files from the volume the loader itself was loaded from (the ESP), through the
 * Simple File System protocol. Paths are ASCII and converted to UCS-2 here.
 */
#include "loader.h"
#include "lib/fmt.h"

#define PATH_MAX_CHARS 128

static efi_file_t *root;

efi_status_t loader_open_volume(void)
{
    efi_guid_t li_guid = EFI_LOADED_IMAGE_GUID, fs_guid = EFI_SIMPLE_FILE_SYSTEM_GUID;
    efi_loaded_image_t *li;
    efi_simple_file_system_t *fs;
    efi_boot_services_t *bs = loader_st->boot_services;
    efi_status_t s = bs->handle_protocol(loader_image, &li_guid, (void **)&li);
    if (EFI_IS_ERROR(s))
        return s;
    s = bs->handle_protocol(li->device_handle, &fs_guid, (void **)&fs);
    if (EFI_IS_ERROR(s))
        return s;
    return fs->open_volume(fs, &root);
}

static void to_ucs2(char16_t_ *out, const char *in)
{
    unsigned i = 0;
    for (; in[i] && i < PATH_MAX_CHARS - 1; i++)
        out[i] = (unsigned char)in[i];
    out[i] = 0;
}

static efi_status_t file_size(efi_file_t *f, uint64_t *size, bool *is_dir)
{
    efi_guid_t info_guid = EFI_FILE_INFO_GUID;
    uint64_t buf[64]; /* EFI_FILE_INFO plus a name of up to ~200 characters */
    uint64_t len = sizeof(buf);
    efi_status_t s = f->get_info(f, &info_guid, &len, buf);
    if (EFI_IS_ERROR(s))
        return s;
    efi_file_info_t *info = (efi_file_info_t *)buf;
    *size = info->file_size;
    *is_dir = (info->attribute & EFI_FILE_DIRECTORY) != 0;
    return EFI_SUCCESS;
}

static efi_status_t read_open_file(efi_file_t *f, void **data, uint64_t *size)
{
    bool is_dir;
    efi_status_t s = file_size(f, size, &is_dir);
    if (EFI_IS_ERROR(s))
        return s;
    if (is_dir)
        return EFI_INVALID_PARAMETER;
    uint64_t pages = (*size + 4095) / 4096;
    void *buf = loader_alloc_pages(pages ? pages : 1);
    if (!buf)
        return EFI_OUT_OF_RESOURCES;
    uint64_t got = *size;
    s = f->read(f, &got, buf);
    if (EFI_IS_ERROR(s))
        return s;
    if (got != *size)
        return EFI_LOAD_ERROR;
    /* Zero the tail of the last page so nothing stale follows the file. */
    loader_zero((char *)buf + *size, pages * 4096 - *size);
    *data = buf;
    return EFI_SUCCESS;
}

efi_status_t loader_read_file(const char *path, void **data, uint64_t *size)
{
    char16_t_ name[PATH_MAX_CHARS];
    efi_file_t *f;
    to_ucs2(name, path);
    efi_status_t s = root->open(root, &f, name, EFI_FILE_MODE_READ, 0);
    if (EFI_IS_ERROR(s))
        return s;
    s = read_open_file(f, data, size);
    f->close(f);
    return s;
}

static void add_module(vk_boot_module_t *m, const char *name, void *data, uint64_t size)
{
    fmt_snprintf(m->name, sizeof(m->name), "%s", name);
    m->base = (uint64_t)data;
    m->size = size;
}

efi_status_t loader_load_modules(vk_boot_module_t *modules, uint32_t max, uint32_t *count)
{
    void *data;
    uint64_t size;
    *count = 0;
    /* The kernel's symbol map: optional, but panics are unsymbolized without it. */
    if (!EFI_IS_ERROR(loader_read_file("\\boot\\vkernel.map", &data, &size)))
        add_module(&modules[(*count)++], "vkernel.map", data, size);
    else
        loader_print("vkernel loader: warning: \\boot\\vkernel.map missing; backtraces will show raw addresses\r\n");

    char16_t_ dir_name[PATH_MAX_CHARS];
    efi_file_t *dir;
    to_ucs2(dir_name, "\\boot\\modules");
    if (EFI_IS_ERROR(root->open(root, &dir, dir_name, EFI_FILE_MODE_READ, 0)))
        return EFI_SUCCESS; /* no modules directory: fine */

    uint64_t entry_buf[64];
    for (;;) {
        uint64_t len = sizeof(entry_buf);
        efi_status_t s = dir->read(dir, &len, entry_buf);
        if (EFI_IS_ERROR(s) || len == 0)
            break;
        efi_file_info_t *info = (efi_file_info_t *)entry_buf;
        if (info->attribute & EFI_FILE_DIRECTORY)
            continue;
        if (*count == max) {
            loader_print("vkernel loader: more than %u modules; ignoring the rest\r\n", max);
            break;
        }
        char name[VK_BOOT_MODULE_NAME_MAX];
        unsigned n = fmt_snprintf(name, sizeof(name), "modules/");
        for (unsigned i = 0; info->file_name[i] && n < sizeof(name) - 1; i++)
            name[n++] = info->file_name[i] < 128 ? (char)info->file_name[i] : '?';
        name[n] = 0;
        efi_file_t *f;
        if (EFI_IS_ERROR(dir->open(dir, &f, info->file_name, EFI_FILE_MODE_READ, 0)))
            continue;
        s = read_open_file(f, &data, &size);
        f->close(f);
        if (EFI_IS_ERROR(s)) {
            loader_print("vkernel loader: cannot read module %s\r\n", name);
            continue;
        }
        add_module(&modules[(*count)++], name, data, size);
    }
    dir->close(dir);
    return EFI_SUCCESS;
}
