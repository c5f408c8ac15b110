/* SPDX-License-Identifier: MIT */
/*
 * Framebuffer text console. Glyphs come from a PSF console font converted at build time
 * (scripts/psf2c.py, from Debian's console-setup-linux; 8 pixels wide, one byte per
 * row, MSB leftmost). Scrolling moves the pixels up one text row. Colours follow the
 * ANSI SGR codes 30-37/90-97 and 40-47 with 0 = reset, enough for log levels and a
 * coloured banner.
 */
#include "drivers/fbcon/fbcon.h"
#include "core/string.h"

extern const uint8_t fbcon_font_glyphs[256][16];

#define GLYPH_W 8
#define GLYPH_H 16
#define TAB_WIDTH 8
#define DEFAULT_FG 0xc0c0c0
#define DEFAULT_BG 0x101820

static const uint32_t ansi_palette[16] = {
    0x000000, 0xcd3131, 0x0dbc79, 0xe5e510, 0x2472c8, 0xbc3fbc, 0x11a8cd, 0xe5e5e5,
    0x666666, 0xf14c4c, 0x23d18b, 0xf5f543, 0x3b8eea, 0xd670d6, 0x29b8db, 0xffffff,
};

static struct {
    uint8_t *pixels;
    uint32_t width, height, pitch, format;
    unsigned cols, rows, col, row;
    uint32_t fg, bg;      /* native pixel values */
    int esc_state;        /* 0 text, 1 after ESC, 2 inside CSI */
    unsigned esc_args[8], esc_nargs;
    bool ready;
} con;

static uint32_t native(uint32_t rgb)
{
    if (con.format == VK_FB_FORMAT_RGBX)
        return ((rgb & 0xff) << 16) | (rgb & 0xff00) | ((rgb >> 16) & 0xff);
    return rgb; /* BGRX in memory is 0x00RRGGBB as a little-endian word */
}

static void fill_rect(unsigned x, unsigned y, unsigned w, unsigned h, uint32_t px)
{
    for (unsigned j = 0; j < h; j++) {
        uint32_t *line = (uint32_t *)(con.pixels + (size_t)(y + j) * con.pitch) + x;
        for (unsigned i = 0; i < w; i++)
            line[i] = px;
    }
}

static void draw_glyph(unsigned col, unsigned row, unsigned char c)
{
    const uint8_t *g = fbcon_font_glyphs[c];
    for (unsigned j = 0; j < GLYPH_H; j++) {
        uint32_t *line = (uint32_t *)(con.pixels + (size_t)(row * GLYPH_H + j) * con.pitch) +
                         col * GLYPH_W;
        for (unsigned i = 0; i < GLYPH_W; i++)
            line[i] = (g[j] & (0x80 >> i)) ? con.fg : con.bg;
    }
}

bool fbcon_init(const vk_boot_framebuffer_t *fb, void *pixels)
{
    if (!pixels || fb->width < GLYPH_W * 20 || fb->height < GLYPH_H * 5 || fb->pitch < fb->width * 4)
        return false;
    con.pixels = pixels;
    con.width = fb->width;
    con.height = fb->height;
    con.pitch = fb->pitch;
    con.format = fb->format;
    con.cols = fb->width / GLYPH_W;
    con.rows = fb->height / GLYPH_H;
    con.fg = native(DEFAULT_FG);
    con.bg = native(DEFAULT_BG);
    fill_rect(0, 0, con.width, con.height, con.bg);
    con.ready = true;
    return true;
}

bool fbcon_ready(void)
{
    return con.ready;
}

void fbcon_size(unsigned *cols, unsigned *rows)
{
    *cols = con.cols;
    *rows = con.rows;
}

static void scroll(void)
{
    size_t row_bytes = (size_t)con.pitch * GLYPH_H;
    memmove(con.pixels, con.pixels + row_bytes, row_bytes * (con.rows - 1));
    fill_rect(0, (con.rows - 1) * GLYPH_H, con.cols * GLYPH_W, GLYPH_H, con.bg);
}

static void newline(void)
{
    con.col = 0;
    if (++con.row == con.rows) {
        scroll();
        con.row = con.rows - 1;
    }
}

static void apply_sgr(void)
{
    if (con.esc_nargs == 0)
        con.esc_args[con.esc_nargs++] = 0;
    for (unsigned i = 0; i < con.esc_nargs; i++) {
        unsigned a = con.esc_args[i];
        if (a == 0) {
            con.fg = native(DEFAULT_FG);
            con.bg = native(DEFAULT_BG);
        } else if (a >= 30 && a <= 37) {
            con.fg = native(ansi_palette[a - 30]);
        } else if (a >= 90 && a <= 97) {
            con.fg = native(ansi_palette[a - 90 + 8]);
        } else if (a >= 40 && a <= 47) {
            con.bg = native(ansi_palette[a - 40]);
        } else if (a == 39) {
            con.fg = native(DEFAULT_FG);
        } else if (a == 49) {
            con.bg = native(DEFAULT_BG);
        }
    }
}

static void escape_char(char c)
{
    if (con.esc_state == 1) {
        con.esc_state = (c == '[') ? 2 : 0;
        con.esc_nargs = 0;
        con.esc_args[0] = 0;
        return;
    }
    if (c >= '0' && c <= '9') {
        if (con.esc_nargs == 0)
            con.esc_nargs = 1;
        unsigned *a = &con.esc_args[con.esc_nargs - 1];
        if (*a < 10000)
            *a = *a * 10 + (unsigned)(c - '0');
        return;
    }
    if (c == ';') {
        if (con.esc_nargs == 0)
            con.esc_nargs = 1;
        if (con.esc_nargs < 8)
            con.esc_args[con.esc_nargs++] = 0;
        return;
    }
    if (c == 'm')
        apply_sgr();
    else if (c == 'J' && con.esc_nargs && con.esc_args[0] == 2) {
        fill_rect(0, 0, con.width, con.height, con.bg);
        con.row = con.col = 0;
    }
    con.esc_state = 0; /* any other final byte ends the sequence, ignored */
}

static void put(char c)
{
    if (con.esc_state) {
        escape_char(c);
        return;
    }
    switch (c) {
    case 0x1b: con.esc_state = 1; return;
    case '\n': newline(); return;
    case '\r': con.col = 0; return;
    case '\b': if (con.col) con.col--; return;
    case '\t':
        do
            put(' ');
        while (con.col % TAB_WIDTH);
        return;
    default:
        break;
    }
    if (con.col == con.cols)
        newline();
    draw_glyph(con.col++, con.row, (unsigned char)c);
}

void fbcon_write(const char *s, size_t n)
{
    if (!con.ready)
        return;
    for (size_t i = 0; i < n; i++)
        put(s[i]);
}
