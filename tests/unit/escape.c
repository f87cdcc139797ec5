/* Check escaping of bytes from outside: text for people, C literals for the timeline, JSON strings. */
#include "../../capture/escape.h"

#include "check.h"

static const char *literal(const char *s, size_t len, int more, size_t max)
{
    static char buf[128];
    escape_c_literal((const uint8_t *)s, (uint32_t)len, more, max, buf, sizeof buf);
    return buf;
}

static const char *json(const char *s, size_t len, size_t room)
{
    static char buf[128];
    size_t n = escape_json((const uint8_t *)s, len, buf, room);
    buf[n] = '\0';
    return buf;
}

static const char *html(const char *s, size_t room)
{
    static char buf[128];
    size_t n = escape_html(s, buf, room);
    buf[n] = '\0';
    return buf;
}

static const char *text(const char *s, size_t len, unsigned flags, size_t size)
{
    static char buf[128];
    escape_text((const uint8_t *)s, len, flags, buf, size);
    return buf;
}

static const char *cut(const char *s, size_t len, size_t total, size_t size)
{
    static char buf[128];
    return escape_cut((const uint8_t *)s, len, total, buf, size);
}

/*
 * Printable ASCII is copied eight bytes at a time: any other byte, in any of
 * the eight places and whatever the flags, is escaped as it would be alone.
 */
static void check_each_byte_in_each_place(void)
{
    unsigned differ = 0;
    for (unsigned flags = 0; flags <= (ESCAPE_QUOTE | ESCAPE_KEEP_LINES); flags++) {
        for (unsigned b = 0; b < 256; b++) {
            uint8_t alone = (uint8_t)b;
            char esc[16], want[64], got[64];
            escape_text(&alone, 1, flags, esc, sizeof esc);
            for (size_t at = 0; at < 16; at++) {
                uint8_t src[24];
                memset(src, 'a', sizeof src);
                src[at] = (uint8_t)b;
                snprintf(want, sizeof want, "%.*s%s%.*s", (int)at, "aaaaaaaaaaaaaaaa", esc,
                         (int)(sizeof src - at - 1), "aaaaaaaaaaaaaaaaaaaaaaaa");
                escape_text(src, sizeof src, flags, got, sizeof got);
                differ += strcmp(got, want) != 0;
            }
        }
    }
    CHECK(differ == 0);
}

int main(void)
{
    /* Text for people: text stays text, nothing reaches the terminal that acts on it */
    CHECK_STR(text("caf\xc3\xa9 \xe2\x86\x92", 9, 0, 64), "caf\xc3\xa9 \xe2\x86\x92");
    CHECK_STR(text("\033]0;owned\a", 10, 0, 64), "\\x1b]0;owned\\x07");
    CHECK_STR(text("a\\b\"c", 5, 0, 64), "a\\\\b\"c");
    CHECK_STR(text("a\"b", 3, ESCAPE_QUOTE, 64), "a\\\"b");
    CHECK_STR(text("\x7f", 1, 0, 64), "\\x7f");
    /* C1 controls as UTF-8 (U+009B is CSI) and as lone bytes */
    CHECK_STR(text("\xc2\x9b"
                   "2J",
                   4, 0, 64),
              "\\u009b2J");
    CHECK_STR(text("\x9b"
                   "2J",
                   3, 0, 64),
              "\\x9b2J");
    /* Invalid UTF-8: a stray continuation, an overlong slash, a surrogate, a cut character */
    CHECK_STR(text("\x80\xc0\xaf\xed\xa0\x80\xe2\x86", 8, 0, 64),
              "\\x80\\xc0\\xaf\\xed\\xa0\\x80\\xe2\\x86");
    /* Bidirectional override, line separator */
    CHECK_STR(text("\xe2\x80\xae"
                   "abc\xe2\x80\xa8",
                   9, 0, 64),
              "\\u202eabc\\u2028");
    CHECK_STR(text("a\nb\tc", 5, 0, 64), "a\\nb\\tc");
    CHECK_STR(text("a\nb\tc\r\\", 7, ESCAPE_KEEP_LINES, 64), "a\nb\tc\\r\\");
    /* Never half an escape or half a character; the count says where it stopped */
    CHECK_STR(text("ab\033", 3, 0, 5), "ab");
    CHECK_STR(text("ab\xc3\xa9", 4, 0, 4), "ab");
    CHECK(escape_text((const uint8_t *)"ab\xc3\xa9", 4, 0, (char[4]){ 0 }, 4) == 2);
    CHECK(escape_text((const uint8_t *)"abc", 3, 0, NULL, 0) == 0);

    /* A cut string says so, and by how much */
    CHECK_STR(cut("abc", 3, 3, 64), "abc");
    CHECK_STR(cut("abc", 3, 1000, 64), "abc ... (997 more bytes)");
    CHECK_STR(cut("abcdefghijklmnopqrstuvwxyz", 26, 26, 24), "abc ... (23 more bytes)");
    CHECK_STR(cut("\033\033\033\033\033\033", 6, 6, 24), "\\x1b ... (5 more bytes)");
    char name[64];
    CHECK_STR(escape_str("lab\033[2J\a", name, sizeof name), "lab\\x1b[2J\\x07");

    /* The text timeline's literal */
    CHECK_STR(literal("done\n", 5, 0, 24), "\"done\\n\"");
    CHECK_STR(literal("a\"b\\c", 5, 0, 24), "\"a\\\"b\\\\c\"");
    CHECK_STR(literal("\033[2J\a", 5, 0, 24), "\"\\x1b[2J\\x07\"");
    CHECK_STR(literal("x\0y", 3, 0, 24), "\"x\\0y\"");
    CHECK_STR(literal("caf\xc3\xa9", 5, 0, 24), "\"caf\xc3\xa9\"");
    CHECK_STR(literal("\xff\xc2\x85", 3, 0, 24), "\"\\xff\\u0085\"");
    CHECK_STR(literal("abc", 3, 1, 24), "\"abc\"...");
    CHECK_STR(literal("abcdefghij", 10, 0, 5), "\"abcd\"...");
    char tiny[4] = "xyz";
    escape_c_literal((const uint8_t *)"abc", 3, 0, 24, tiny, sizeof tiny);
    CHECK_STR(tiny, "");

    /* JSON */
    CHECK_STR(json("done\n", 5, 64), "done\\n");
    CHECK_STR(json("a\"b\\c\t\r", 7, 64), "a\\\"b\\\\c\\t\\r");
    CHECK_STR(json("\033\a", 2, 64), "\\u001b\\u0007");
    CHECK_STR(json("x\0y", 3, 64), "x\\u0000y");
    /* Valid UTF-8 is kept (no mojibake); C1 and bidi controls escaped; bad bytes visible */
    CHECK_STR(json("caf\xc3\xa9", 5, 64), "caf\xc3\xa9");
    CHECK_STR(json("\xc2\x9b\x7f", 3, 64), "\\u009b\\u007f");
    CHECK_STR(json("\xe2\x80\xae", 3, 64), "\\u202e");
    CHECK_STR(json("\xff", 1, 64), "\\\\xff");
    CHECK_STR(json("ab\xc3\xa9", 4, 3), "ab");
    /* Cut where room ends, never inside an escape. */
    CHECK_STR(json("abcdef", 6, 4), "abcd");
    CHECK_STR(json("ab\033cd", 5, 6), "ab");
    CHECK_STR(json("ab\ncd", 5, 4), "ab\\n");
    CHECK_STR(json("", 0, 0), "");

    /* HTML: markup from a process name stays text. */
    CHECK_STR(html("<script>alert('x')</script>", 128),
              "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    CHECK_STR(html("a&b \"c\"", 128), "a&amp;b &quot;c&quot;");
    CHECK_STR(html("\033[2J\a\x7f", 128), "\\x1b[2J\\x07\\x7f");
    CHECK_STR(html("client\u2192server \u2026", 128), "client\u2192server \u2026");
    CHECK_STR(html("caf\xc3\xa9", 128), "caf\xc3\xa9");
    /* Not UTF-8: a lone continuation, a cut sequence, an overlong '<', a C1 control. */
    CHECK_STR(html("\x80x\xe2\x86", 128), "\\x80x\\xe2\\x86");
    CHECK_STR(html("\xc0\xbc", 128), "\\xc0\\xbc");
    CHECK_STR(html("\xc2\x9b", 128), "\\u009b");
    /* Cut where room ends, never inside an entity or a character. */
    CHECK_STR(html("ab<cd", 5), "ab");
    CHECK_STR(html("a\u2192b", 3), "a");

    check_each_byte_in_each_place();
    return check_done();
}
