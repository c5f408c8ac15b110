/* SPDX-License-Identifier: MIT */
/* The line discipline, on a terminal of its own whose output is captured. */
#include "tty/tty.h"
#include "test/ktest.h"
#include "core/string.h"
#include "time/time.h"
#include <vk/errno.h>

typedef struct {
    char text[2048];
    size_t len;
} capture_t;

static void capture_output(tty_t *t, const char *bytes, size_t n)
{
    capture_t *c = tty_device(t);
    for (size_t i = 0; i < n && c->len < sizeof(c->text) - 1; i++)
        c->text[c->len++] = bytes[i];
    c->text[c->len] = 0;
}

static capture_t out;

static tty_t *make_tty(void)
{
    memset(&out, 0, sizeof(out));
    return tty_create("tty-test", capture_output, &out);
}

static void type(tty_t *t, const char *s)
{
    tty_input(t, s, strlen(s));
    tty_drain_input(t);
}

/* A read that must not block: the text it returns (NUL-terminated) and its length. */
static long read_now(tty_t *t, char *buf, size_t size)
{
    long n = tty_read(t, vfs_kbuf(buf), size - 1, true);
    buf[n > 0 ? n : 0] = 0;
    return n;
}

static void set_raw(tty_t *t, unsigned min, unsigned time)
{
    tty_termios_t tm;
    tty_get_termios(t, &tm);
    tm.lflag &= ~(TTY_ICANON | TTY_ECHO);
    tm.cc[TTY_VMIN] = (uint8_t)min;
    tm.cc[TTY_VTIME] = (uint8_t)time;
    tty_set_termios(t, &tm);
}

KTEST(tty_canonical_line_with_erase_and_echo)
{
    tty_t *t = make_tty();
    KTEST_EXPECT(t != NULL);
    char buf[64];
    type(t, "ab\x7f" "c");
    KTEST_EXPECT_EQ(read_now(t, buf, sizeof(buf)), -VK_EAGAIN); /* no line yet */
    type(t, "\r");
    KTEST_EXPECT_EQ(read_now(t, buf, sizeof(buf)), 3);
    KTEST_EXPECT(strcmp(buf, "ac\n") == 0);
    KTEST_EXPECT(strcmp(out.text, "ab\b \bc\r\n") == 0);
    tty_destroy(t);
}

KTEST(tty_kill_and_word_erase)
{
    tty_t *t = make_tty();
    char buf[64];
    type(t, "gone\x15" "one two\x17" "three\n");
    KTEST_EXPECT_EQ(read_now(t, buf, sizeof(buf)), 10);
    KTEST_EXPECT(strcmp(buf, "one three\n") == 0);
    tty_destroy(t);
}

KTEST(tty_eof_and_partial_lines)
{
    tty_t *t = make_tty();
    char buf[64];
    type(t, "xy\x04");
    KTEST_EXPECT_EQ(read_now(t, buf, sizeof(buf)), 2); /* ^D ends the line, unseen */
    KTEST_EXPECT(strcmp(buf, "xy") == 0);
    type(t, "\x04");
    KTEST_EXPECT_EQ(read_now(t, buf, sizeof(buf)), 0); /* alone: end of file */
    type(t, "abcdef\n");
    KTEST_EXPECT_EQ(read_now(t, buf, 4), 3); /* a short read takes part of a line ... */
    KTEST_EXPECT_EQ(read_now(t, buf, sizeof(buf)), 4); /* ... and the rest follows */
    KTEST_EXPECT(strcmp(buf, "def\n") == 0);
    tty_destroy(t);
}

KTEST(tty_utf8_erase_takes_whole_character)
{
    tty_t *t = make_tty();
    char buf[64];
    type(t, "a\xc3\xa9\x7f\n");
    KTEST_EXPECT_EQ(read_now(t, buf, sizeof(buf)), 2);
    KTEST_EXPECT(strcmp(buf, "a\n") == 0);
    KTEST_EXPECT(strcmp(out.text, "a\xc3\xa9\b \b\r\n") == 0);
    tty_destroy(t);
}

KTEST(tty_interrupt_flushes_and_echoes)
{
    tty_t *t = make_tty();
    char buf[64];
    tty_set_session(t, 0x7ffffff0u, 0x7ffffff0u); /* a group with no process in it */
    type(t, "lost\x03" "kept\n");
    KTEST_EXPECT_EQ(read_now(t, buf, sizeof(buf)), 5);
    KTEST_EXPECT(strcmp(buf, "kept\n") == 0);
    KTEST_EXPECT(memcmp(out.text, "lost^C", 6) == 0);
    tty_stats_t st;
    tty_get_stats(t, &st);
    KTEST_EXPECT_EQ(st.signals_sent, 1);
    tty_destroy(t);
}

KTEST(tty_raw_mode_vmin_vtime)
{
    tty_t *t = make_tty();
    char buf[64];
    set_raw(t, 1, 0);
    KTEST_EXPECT_EQ(read_now(t, buf, sizeof(buf)), -VK_EAGAIN);
    type(t, "\x1b[A\x7f\r");
    KTEST_EXPECT_EQ(read_now(t, buf, sizeof(buf)), 5); /* bytes as typed, CR mapped */
    KTEST_EXPECT(memcmp(buf, "\x1b[A\x7f\n", 5) == 0);
    KTEST_EXPECT_EQ(out.len, 0); /* no echo */
    set_raw(t, 0, 1); /* a read gives up after 0.1 s */
    uint64_t start = time_monotonic_ns();
    KTEST_EXPECT_EQ(tty_read(t, vfs_kbuf(buf), sizeof(buf), false), 0);
    KTEST_EXPECT(time_monotonic_ns() - start >= 90000000ull);
    tty_destroy(t);
}

KTEST(tty_switching_modes_keeps_typed_bytes)
{
    tty_t *t = make_tty();
    char buf[64];
    type(t, "half");
    set_raw(t, 1, 0); /* the half-typed line becomes readable bytes */
    KTEST_EXPECT_EQ(read_now(t, buf, sizeof(buf)), 4);
    type(t, "raw");
    tty_termios_t tm;
    tty_get_termios(t, &tm);
    tm.lflag |= TTY_ICANON;
    tty_set_termios(t, &tm); /* raw bytes read as one line */
    KTEST_EXPECT_EQ(read_now(t, buf, sizeof(buf)), 3);
    KTEST_EXPECT(strcmp(buf, "raw") == 0);
    tty_destroy(t);
}

KTEST(tty_output_modes)
{
    tty_t *t = make_tty();
    KTEST_EXPECT_EQ(tty_write(t, vfs_kbuf("a\nb"), 3), 3);
    KTEST_EXPECT(strcmp(out.text, "a\r\nb") == 0);
    tty_termios_t tm;
    tty_get_termios(t, &tm);
    tm.oflag &= ~TTY_OPOST;
    tty_set_termios(t, &tm);
    out.len = 0;
    KTEST_EXPECT_EQ(tty_write(t, vfs_kbuf("a\nb"), 3), 3);
    KTEST_EXPECT(memcmp(out.text, "a\nb", 3) == 0 && out.len == 3);
    tty_destroy(t);
}

KTEST(tty_overlong_line_is_cut_not_overflowed)
{
    tty_t *t = make_tty();
    static char line[5000];
    memset(line, 'x', sizeof(line));
    tty_input(t, line, 1000); /* the raw queue holds 1024 bytes: fill it in steps */
    tty_drain_input(t);
    for (int i = 0; i < 4; i++) {
        tty_input(t, line, 1000);
        tty_drain_input(t);
    }
    type(t, "\n");
    static char buf[5000];
    long total = 0, n;
    while ((n = tty_read(t, vfs_kbuf(buf), sizeof(buf), true)) > 0)
        total += n;
    KTEST_EXPECT_EQ(total, 4096); /* 4095 bytes and the newline */
    tty_stats_t st;
    tty_get_stats(t, &st);
    KTEST_EXPECT_EQ(st.dropped_bytes, 5000 - 4095);
    tty_destroy(t);
}
