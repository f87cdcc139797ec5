/* Check escaping of bytes from outside: C literals for the timeline, JSON strings. */
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

int main(void)
{
    /* The text timeline's literal */
    CHECK_STR(literal("done\n", 5, 0, 24), "\"done\\n\"");
    CHECK_STR(literal("a\"b\\c", 5, 0, 24), "\"a\\\"b\\\\c\"");
    CHECK_STR(literal("\033[2J\a", 5, 0, 24), "\"\\x1b[2J\\x07\"");
    CHECK_STR(literal("x\0y", 3, 0, 24), "\"x\\0y\"");
    CHECK_STR(literal("caf\xc3\xa9", 5, 0, 24), "\"caf\\xc3\\xa9\"");
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
    CHECK_STR(html("\xc2\x9b", 128), "\\xc2\\x9b");
    /* Cut where room ends, never inside an entity or a character. */
    CHECK_STR(html("ab<cd", 5), "ab");
    CHECK_STR(html("a\u2192b", 3), "a");
    return check_done();
}
