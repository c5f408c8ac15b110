/* SPDX-License-Identifier: MIT */
/*
 * The small part of the UEFI 2.x interface the loader uses, written from the UEFI
 * specification (chapters 4 "EFI System Table", 7 "Services - Boot Services",
 * 9 "Protocols - EFI Loaded Image", 12.9 "Graphics Output Protocol",
 * 13.4/13.5 "Simple File System" and "File Protocol").
 *
 * The loader is compiled for x86_64-unknown-windows, so every function pointer below
 * already uses the Microsoft x64 calling convention that UEFI mandates. Tables list every
 * member up to the last one we call, in specification order: the layout is the contract.
 */
#ifndef SRC_BOOT_EFI_H
#define SRC_BOOT_EFI_H

#include <stdint.h>
#include <stddef.h>

typedef uint64_t efi_status_t;
typedef void *efi_handle_t;
typedef uint16_t char16_t_;

#define EFI_ERROR_BIT             0x8000000000000000ull
#define EFI_SUCCESS               0ull
#define EFI_LOAD_ERROR            (EFI_ERROR_BIT | 1)
#define EFI_INVALID_PARAMETER     (EFI_ERROR_BIT | 2)
#define EFI_UNSUPPORTED           (EFI_ERROR_BIT | 3)
#define EFI_BUFFER_TOO_SMALL      (EFI_ERROR_BIT | 5)
#define EFI_OUT_OF_RESOURCES      (EFI_ERROR_BIT | 9)
#define EFI_NOT_FOUND             (EFI_ERROR_BIT | 14)
#define EFI_IS_ERROR(s)           (((s) & EFI_ERROR_BIT) != 0)

typedef struct {
    uint32_t data1;
    uint16_t data2, data3;
    uint8_t data4[8];
} efi_guid_t;

typedef struct {
    uint64_t signature;
    uint32_t revision, header_size, crc32, reserved;
} efi_table_header_t;

/* 7.2 memory allocation */
#define EFI_ALLOCATE_ANY_PAGES   0
#define EFI_ALLOCATE_MAX_ADDRESS 1
#define EFI_LOADER_DATA          2
/* 0x80000000..0xffffffff are reserved for OS loaders: vkernel's own memory. */
#define EFI_VKERNEL_MEMORY       0x80000000u

enum {
    EFI_RESERVED_MEMORY = 0, EFI_LOADER_CODE_MEMORY, EFI_LOADER_DATA_MEMORY,
    EFI_BOOT_SERVICES_CODE, EFI_BOOT_SERVICES_DATA, EFI_RUNTIME_SERVICES_CODE,
    EFI_RUNTIME_SERVICES_DATA, EFI_CONVENTIONAL_MEMORY, EFI_UNUSABLE_MEMORY,
    EFI_ACPI_RECLAIM_MEMORY, EFI_ACPI_MEMORY_NVS, EFI_MEMORY_MAPPED_IO,
    EFI_MEMORY_MAPPED_IO_PORT_SPACE, EFI_PAL_CODE, EFI_PERSISTENT_MEMORY,
};

typedef struct {
    uint32_t type;
    uint32_t _pad;
    uint64_t physical_start;
    uint64_t virtual_start;
    uint64_t number_of_pages;
    uint64_t attribute;
} efi_memory_descriptor_t;

struct efi_simple_text_output;
typedef efi_status_t (*efi_text_string_t)(struct efi_simple_text_output *self, char16_t_ *s);
typedef struct efi_simple_text_output {
    void *reset;
    efi_text_string_t output_string;
    void *test_string, *query_mode, *set_mode, *set_attribute, *clear_screen,
        *set_cursor_position, *enable_cursor, *mode;
} efi_simple_text_output_t;

typedef struct {
    efi_table_header_t hdr;
    void *raise_tpl, *restore_tpl;
    efi_status_t (*allocate_pages)(int type, uint32_t memory_type, uint64_t pages, uint64_t *memory);
    efi_status_t (*free_pages)(uint64_t memory, uint64_t pages);
    efi_status_t (*get_memory_map)(uint64_t *size, efi_memory_descriptor_t *map, uint64_t *key,
                                   uint64_t *descriptor_size, uint32_t *descriptor_version);
    efi_status_t (*allocate_pool)(uint32_t pool_type, uint64_t size, void **buffer);
    efi_status_t (*free_pool)(void *buffer);
    void *create_event, *set_timer, *wait_for_event, *signal_event, *close_event, *check_event;
    void *install_protocol_interface, *reinstall_protocol_interface,
        *uninstall_protocol_interface;
    efi_status_t (*handle_protocol)(efi_handle_t handle, const efi_guid_t *protocol, void **iface);
    void *reserved, *register_protocol_notify, *locate_handle, *locate_device_path,
        *install_configuration_table;
    void *load_image, *start_image, *exit, *unload_image;
    efi_status_t (*exit_boot_services)(efi_handle_t image, uint64_t map_key);
    void *get_next_monotonic_count;
    efi_status_t (*stall)(uint64_t microseconds);
    efi_status_t (*set_watchdog_timer)(uint64_t timeout, uint64_t code, uint64_t size, char16_t_ *data);
    void *connect_controller, *disconnect_controller;
    void *open_protocol, *close_protocol, *open_protocol_information;
    void *protocols_per_handle, *locate_handle_buffer;
    efi_status_t (*locate_protocol)(const efi_guid_t *protocol, void *registration, void **iface);
} efi_boot_services_t;

typedef struct {
    efi_guid_t vendor_guid;
    void *vendor_table;
} efi_configuration_table_t;

typedef struct {
    efi_table_header_t hdr;
    char16_t_ *firmware_vendor;
    uint32_t firmware_revision;
    efi_handle_t console_in_handle;
    void *con_in;
    efi_handle_t console_out_handle;
    efi_simple_text_output_t *con_out;
    efi_handle_t standard_error_handle;
    efi_simple_text_output_t *std_err;
    void *runtime_services;
    efi_boot_services_t *boot_services;
    uint64_t number_of_table_entries;
    efi_configuration_table_t *configuration_table;
} efi_system_table_t;

typedef struct {
    uint32_t revision;
    efi_handle_t parent_handle;
    efi_system_table_t *system_table;
    efi_handle_t device_handle;
    void *file_path;
    void *reserved;
    uint32_t load_options_size;
    void *load_options;
    void *image_base;
    uint64_t image_size;
    uint32_t image_code_type, image_data_type;
    void *unload;
} efi_loaded_image_t;

#define EFI_FILE_MODE_READ 1ull
#define EFI_FILE_DIRECTORY 0x10ull

typedef struct efi_file efi_file_t;
struct efi_file {
    uint64_t revision;
    efi_status_t (*open)(efi_file_t *self, efi_file_t **out, char16_t_ *name, uint64_t mode, uint64_t attributes);
    efi_status_t (*close)(efi_file_t *self);
    void *delete_;
    efi_status_t (*read)(efi_file_t *self, uint64_t *size, void *buffer);
    void *write, *get_position, *set_position;
    efi_status_t (*get_info)(efi_file_t *self, const efi_guid_t *type, uint64_t *size, void *buffer);
};

typedef struct {
    uint16_t year;
    uint8_t month, day, hour, minute, second, _pad1;
    uint32_t nanosecond;
    int16_t time_zone;
    uint8_t daylight, _pad2;
} efi_time_t;

typedef struct {
    uint64_t size, file_size, physical_size;
    efi_time_t create_time, last_access_time, modification_time;
    uint64_t attribute;
    char16_t_ file_name[];
} efi_file_info_t;

typedef struct efi_simple_file_system {
    uint64_t revision;
    efi_status_t (*open_volume)(struct efi_simple_file_system *self, efi_file_t **root);
} efi_simple_file_system_t;

enum { EFI_PIXEL_RGBX = 0, EFI_PIXEL_BGRX = 1, EFI_PIXEL_BITMASK = 2, EFI_PIXEL_BLT_ONLY = 3 };

typedef struct {
    uint32_t version, horizontal_resolution, vertical_resolution;
    uint32_t pixel_format;
    uint32_t red_mask, green_mask, blue_mask, reserved_mask;
    uint32_t pixels_per_scan_line;
} efi_gop_mode_info_t;

typedef struct {
    uint32_t max_mode, mode;
    efi_gop_mode_info_t *info;
    uint64_t size_of_info;
    uint64_t frame_buffer_base;
    uint64_t frame_buffer_size;
} efi_gop_mode_t;

typedef struct {
    void *query_mode, *set_mode, *blt;
    efi_gop_mode_t *mode;
} efi_gop_t;

#define EFI_LOADED_IMAGE_GUID \
    { 0x5b1b31a1, 0x9562, 0x11d2, { 0x8e, 0x3f, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b } }
#define EFI_SIMPLE_FILE_SYSTEM_GUID \
    { 0x964e5b22, 0x6459, 0x11d2, { 0x8e, 0x39, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b } }
#define EFI_FILE_INFO_GUID \
    { 0x09576e92, 0x6d3f, 0x11d2, { 0x8e, 0x39, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b } }
#define EFI_GOP_GUID \
    { 0x9042a9de, 0x23dc, 0x4a38, { 0x96, 0xfb, 0x7a, 0xde, 0xd0, 0x80, 0x51, 0x6a } }
#define EFI_ACPI_20_TABLE_GUID \
    { 0x8868e871, 0xe4f1, 0x11d3, { 0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81 } }
#define EFI_ACPI_10_TABLE_GUID \
    { 0xeb9d2d30, 0x2d88, 0x11d3, { 0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d } }

#endif
