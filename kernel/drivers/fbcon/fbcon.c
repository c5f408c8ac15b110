/* SPDX-License-Identifier: MIT */
/*
 * Framebuffer text console. Glyphs come from a PSF console font converted at build time
 * (scripts/psf2c.py, from Debian's console-setup-linux; 8 pixels wide, one byte per
 * row, MSB leftmost). Scrolling moves the pixels up one text row. Colours follow the
 * ANSI SGR codes 30-37/90-97 and 40-47 with 0 = reset, enough for log levels and a
 * coloured banner. For line editors the VT100 cursor controls work too: CSI A B C D
 * (moves), G (column), H/f (position), K (erase in line), J (erase in display); other
 * sequences, private ones (CSI ? ...) included, are read and ignored. The cursor is an
 * underline drawn by XOR, removed while text is drawn and put back after each write.
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
    bool esc_private;     /* CSI ? ...: read, ignored */
    bool cursor_drawn;
    unsigned cursor_col, cursor_row;
    uint32_t cursor_xor;
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

/* The cursor: two pixel rows near the bottom of its cell, inverted (XOR twice is a
 * no-op, so the cell comes back exactly). */
static void cursor_toggle(void)
{
    for (unsigned j = GLYPH_H - 3; j < GLYPH_H - 1; j++) {
        uint32_t *line = (uint32_t *)(con.pixels +
                                      (size_t)(con.cursor_row * GLYPH_H + j) * con.pitch) +
                         con.cursor_col * GLYPH_W;
        for (unsigned i = 0; i < GLYPH_W; i++)
            line[i] ^= con.cursor_xor;
    }
    con.cursor_drawn = !con.cursor_drawn;
}

static void cursor_show(void)
{
    con.cursor_col = con.col < con.cols ? con.col : con.cols - 1;
    con.cursor_row = con.row;
    con.cursor_xor = (con.fg ^ con.bg) & 0xffffff;
    cursor_toggle();
}

static unsigned arg_or(unsigned i, unsigned fallback)
{
    return i < con.esc_nargs && con.esc_args[i] ? con.esc_args[i] : fallback;
}

static void erase_cells(unsigned row, unsigned from, unsigned to)
{
    if (from < to)
        fill_rect(from * GLYPH_W, row * GLYPH_H, (to - from) * GLYPH_W, GLYPH_H, con.bg);
}

/* The final byte of a CSI sequence that is not SGR. */
static void apply_csi(char c)
{
    unsigned n = arg_or(0, 1);
    switch (c) {
    case 'A': con.row = con.row > n ? con.row - n : 0; break;
    case 'B': con.row = con.row + n < con.rows ? con.row + n : con.rows - 1; break;
    case 'C': con.col = con.col + n < con.cols ? con.col + n : con.cols - 1; break;
    case 'D': con.col = con.col > n ? con.col - n : 0; break;
    case 'G': con.col = n <= con.cols ? n - 1 : con.cols - 1; break;
    case 'H':
    case 'f': {
        unsigned row = arg_or(0, 1), col = arg_or(1, 1);
        con.row = row <= con.rows ? row - 1 : con.rows - 1;
        con.col = col <= con.cols ? col - 1 : con.cols - 1;
        break;
    }
    case 'K': {
        unsigned mode = con.esc_nargs ? con.esc_args[0] : 0;
        unsigned col = con.col < con.cols ? con.col : con.cols;
        erase_cells(con.row, mode == 0 ? col : 0, mode == 1 ? col + 1 : con.cols);
        break;
    }
    case 'J': {
        unsigned mode = con.esc_nargs ? con.esc_args[0] : 0;
        if (mode == 2 || mode == 3) {
            fill_rect(0, 0, con.width, con.height, con.bg);
            con.row = con.col = 0;
        } else if (mode == 0) {
            erase_cells(con.row, con.col < con.cols ? con.col : con.cols, con.cols);
            if (con.row + 1 < con.rows)
                fill_rect(0, (con.row + 1) * GLYPH_H, con.width,
                          con.height - (con.row + 1) * GLYPH_H, con.bg);
        } else if (mode == 1) {
            if (con.row)
                fill_rect(0, 0, con.width, con.row * GLYPH_H, con.bg);
            erase_cells(con.row, 0, con.col < con.cols ? con.col + 1 : con.cols);
        }
        break;
    }
    default:
        break; /* unknown: ignored */
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
        con.esc_private = false;
        return;
    }
    if (c == '?' || c == '>' || c == '=') {
        con.esc_private = true;
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
    if (con.esc_private)
        ; /* modes such as CSI ? 25 h: not supported, ignored */
    else if (c == 'm')
        apply_sgr();
    else
        apply_csi(c);
    con.esc_state = 0;
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
    if (con.cursor_drawn)
        cursor_toggle();
    for (size_t i = 0; i < n; i++)
        put(s[i]);
    cursor_show();
}
