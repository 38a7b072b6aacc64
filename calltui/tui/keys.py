"""Every key binding of the TUI, by context, in one place.

Each entry has the id that `[keys]` in the config remaps, its default keys, the action, the
footer's word and, for the screens the command palette opens over, the palette's wording. The
screens and widgets take their BINDINGS from here (`bindings(context)`); the help screen
(`rows`) and the command palette (`palette`) read the same entries together with the live
keymap, so a key remapped in `[keys]` shows as remapped everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True, slots=True)
class Key:
    id: str
    keys: str
    """Textual key names, comma-separated: the defaults a keymap entry replaces."""
    action: str
    description: str
    show: bool = True
    palette: str | None = None
    """The palette's title (the keys are added to it); None: not in the palette."""
    palette_help: str = ""


@dataclass(frozen=True, slots=True)
class Context:
    name: str
    """As help shows it."""
    keys: tuple[Key, ...]


def _k(*args: object, **kw: object) -> Key:
    return Key(*args, **kw)  # type: ignore[arg-type]


CONTEXTS: dict[str, Context] = {
    "app": Context(
        "everywhere",
        (
            _k("quit", "q", "quit", "Quit"),
            _k(
                "help",
                "question_mark,f1",
                "help",
                "Help",
                palette="Help",
                palette_help="Every key binding",
            ),
            _k("palette", "colon,ctrl+p", "command_palette", "Commands", show=False),
            _k("focus_next", "tab", "focus_next", "Next pane", show=False),
            _k("focus_previous", "shift+tab", "focus_previous", "Previous pane", show=False),
        ),
    ),
    "main": Context(
        "main screen",
        (
            _k(
                "failed_only",
                "f",
                "toggle_failed",
                "Failed only",
                palette="View: failed only",
                palette_help="Toggle: only calls that did not connect",
            ),
            _k("search", "slash,f3", "search", "Search"),
            _k(
                "tail",
                "t",
                "toggle_tail",
                "Tail",
                palette="Triage: live tail",
                palette_help="Start or stop: poll every account's newest calls and put them on top",
            ),
            _k(
                "kpi",
                "i",
                "toggle_kpi",
                "KPIs",
                palette="Triage: KPI panel",
                palette_help="ASR, NER, ACD, PDD, short calls, failure causes, calls per minute",
            ),
            _k(
                "export",
                "x",
                "export",
                "Export",
                palette="Export: view or marked…",
                palette_help="CSV, JSON or NDJSON to a file",
            ),
            _k(
                "compare",
                "d",
                "compare",
                "Compare",
                palette="Triage: compare two marked calls",
                palette_help="Side by side, the fields that differ highlighted",
            ),
            _k(
                "refresh",
                "r,f5",
                "refresh",
                "Refresh",
                show=False,
                palette="View: refresh",
                palette_help="Fetch the current window again",
            ),
            _k("retry_failed", "R", "retry_failed", "Retry failed"),
            _k(
                "error_log",
                "E",
                "error_log",
                "Errors",
                show=False,
                palette="View: error log",
                palette_help="Every failed account's whole last error, its URL, when, next try",
            ),
            _k(
                "copy_view",
                "Y",
                "copy_view",
                "Copy view",
                show=False,
                palette="View: copy its spec",
                palette_help="calltui://view?... for calltui --view on another jump host",
            ),
            _k(
                "view_back",
                "left_square_bracket",
                "view_step(-1)",
                "View back",
                show=False,
                palette="View: back",
                palette_help="The view before this one in this session",
            ),
            _k(
                "view_forward",
                "right_square_bracket",
                "view_step(1)",
                "View forth",
                show=False,
                palette="View: forth",
                palette_help="The view after this one in this session",
            ),
            _k("stop", "escape", "stop", "Stop loading", show=False),
            _k(
                "alert_pivot",
                "a",
                "alert_pivot",
                "Alert",
                palette="Triage: pivot of the alerting group",
                palette_help="The live tail's newest alert: its group's calls, grouped by cause",
            ),
            _k(
                "pivot",
                "v",
                "pivot",
                "Pivot",
                palette="Triage: pivot",
                palette_help="The view grouped by cause, SIP code, trunk, country, prefix…",
            ),
            _k(
                "filters",
                "f7",
                "edit_filters",
                "Filters",
                show=False,
                palette="View: filters…",
                palette_help="Edit the filters",
            ),
            _k(
                "window",
                "w",
                "cycle_since",
                "Window",
                show=False,
                palette="View: time window",
                palette_help="15 min, 1 h, 4 h, 1 day, 7 days",
            ),
            _k(
                "curl",
                "c",
                "curl",
                "Copy curl",
                show=False,
                palette="Handoff: copy as curl",
                palette_help="The request behind the selected call, credentials as $VARIABLES",
            ),
            _k(
                "bundle",
                "B",
                "bundle",
                "Bundle",
                show=False,
                palette="Handoff: redacted bundle",
                palette_help="The call, its drill-down and related calls as JSON; numbers masked",
            ),
            _k(
                "pcap",
                "p",
                "pcap",
                "Pcap",
                show=False,
                palette="Handoff: save pcap",
                palette_help="The call's SIP capture to a file, to open in sngrep or Wireshark",
            ),
            _k("copy_id", "y", "copy_id", "Copy id", show=False),
            _k(
                "save_view",
                "f2,ctrl+s",
                "save_view",
                "Save CSV",
                show=False,
                palette="Export: view as CSV now",
                palette_help="Quick save in the working directory",
            ),
            _k("toggle_sidebar", "b", "toggle_sidebar", "Accounts", show=False),
            _k(
                "go_to",
                "",
                "go_to",
                "Go to call",
                palette="View: go to call id…",
                palette_help="Jump to a loaded call by its id",
            ),
            _k(
                "clear_marks",
                "",
                "clear_marks",
                "Clear marks",
                palette="Marks: clear all",
                palette_help="Unmark every call marked with Space",
            ),
        ),
    ),
    "table": Context(
        "call table",
        (
            _k("cursor_down", "down,j", "cursor(1)", "Down", show=False),
            _k("cursor_up", "up,k", "cursor(-1)", "Up", show=False),
            _k("page_down", "pagedown,ctrl+f", "page(1)", "Page down", show=False),
            _k("page_up", "pageup,ctrl+b", "page(-1)", "Page up", show=False),
            _k("top", "home,g", "home", "Top", show=False),
            _k("bottom", "end,G", "end", "Bottom", show=False),
            _k("sort", "s", "sort_next", "Sort"),
            _k("sort_reverse", "S", "sort_reverse", "Reverse", show=False),
            _k("open", "enter", "open", "Open"),
            _k("mark", "space", "mark", "Mark"),
        ),
    ),
    "rows": Context(
        "accounts & flow",
        (
            _k("list_down", "down", "cursor(1)", "Down", show=False),
            _k("list_up", "up", "cursor(-1)", "Up", show=False),
            _k("list_page_down", "pagedown", "page(1)", "Page down", show=False),
            _k("list_page_up", "pageup", "page(-1)", "Page up", show=False),
            _k("list_top", "home", "home", "Top", show=False),
            _k("list_bottom", "end", "end", "Bottom", show=False),
            _k("list_select", "enter,space", "select", "Select", show=False),
        ),
    ),
    "detail": Context(
        "call detail",
        (
            _k("detail_back", "escape,q", "back", "Back"),
            _k("detail_copy_id", "y", "copy_id", "Copy id", show=False),
            _k("detail_summary", "1", "tab('tab-summary')", "Summary"),
            _k("detail_flow", "2", "tab('tab-flow')", "Flow"),
            _k("detail_raw", "3,f6", "tab('tab-raw')", "Raw"),
            _k(
                "detail_related",
                "4",
                "tab('tab-related')",
                "Related",
                palette="Related calls",
                palette_help="Calls and legs of this call across every account",
            ),
            _k(
                "detail_chain",
                "5",
                "tab('tab-chain')",
                "Chain",
                palette="End-to-end call (chain ladder)",
                palette_help="Every platform's leg of this call on one time axis, the failed hop",
            ),
            _k(
                "detail_twin",
                "w",
                "twin",
                "Good twin",
                palette="Good twin: compare with the nearest answered call",
                palette_help="Same trunk, same destination prefix; what differs highlighted",
            ),
            _k("detail_search", "slash,f3", "search_raw", "Search raw", show=False),
            _k(
                "detail_curl",
                "c",
                "curl",
                "Copy curl",
                palette="Handoff: copy as curl",
                palette_help="This call's API request, credentials as $VARIABLES",
            ),
            _k(
                "detail_bundle",
                "B",
                "bundle",
                "Bundle",
                palette="Handoff: redacted bundle",
                palette_help="This call, its drill-down and related calls as JSON; numbers masked",
            ),
            _k(
                "detail_pcap",
                "p",
                "pcap",
                "Pcap",
                palette="Handoff: save pcap",
                palette_help="This call's SIP capture to a file (where the provider serves one)",
            ),
        ),
    ),
    "compare": Context(
        "compare",
        (
            _k("compare_back", "escape,q", "back", "Back"),
            _k("compare_only_diff", "o", "only_differences", "Only differences"),
        ),
    ),
    "export": Context(
        "export",
        (
            _k("export_cancel", "escape", "dismiss(None)", "Cancel"),
            _k("export_save", "enter,ctrl+s", "save", "Save"),
        ),
    ),
    "choices": Context(
        "export options",
        (
            _k("choice_next", "down,right", "next_button", "Next option", show=False),
            _k("choice_choose", "space", "toggle_button", "Choose", show=False),
            _k("choice_previous", "up,left", "previous_button", "Previous option", show=False),
        ),
    ),
    "filters": Context(
        "filter form",
        (
            _k("filters_cancel", "escape", "dismiss(None)", "Cancel"),
            _k("filters_apply", "ctrl+s", "apply", "Apply"),
        ),
    ),
    "prompt": Context("prompts", (_k("prompt_cancel", "escape", "dismiss(None)", "Cancel"),)),
    "open_with": Context(
        "open a capture", (_k("open_with_cancel", "escape,n", "dismiss(None)", "Not now"),)
    ),
    "pivot": Context(
        "pivot",
        (
            _k("pivot_back", "escape,q", "back", "Back"),
            _k("pivot_by", "b", "next_field", "Group by"),
            _k("pivot_sub", "n", "next_subfield", "Sub-groups"),
            _k("pivot_more_digits", "plus", "digits(1)", "Prefix +1"),
            _k("pivot_fewer_digits", "minus", "digits(-1)", "Prefix -1"),
        ),
    ),
    "copy": Context("copy dialog", (_k("copy_close", "escape,enter", "dismiss", "Close"),)),
    "errors": Context("error log", (_k("errors_close", "escape,q,E", "dismiss", "Close"),)),
    "help": Context("help", (_k("help_close", "escape,q,question_mark,f1", "dismiss", "Close"),)),
}


def bindings(context: str, namespace: str = "") -> list[BindingType]:
    """The BINDINGS of the screen or widget of `context` (palette-only entries have none);
    `namespace`: where the actions run (`app.` for the app's keys bound on a screen)."""
    return [
        Binding(k.keys, namespace + k.action, k.description, show=k.show, id=k.id)
        for k in CONTEXTS[context].keys
        if k.keys
    ]


def find(key_id: str) -> Key:
    """The entry whose id is `key_id`."""
    for context in CONTEXTS.values():
        for k in context.keys:
            if k.id == key_id:
                return k
    raise KeyError(key_id)


def keys_of(key: Key, keymap: Mapping[str, str]) -> str:
    """The keys that trigger `key` now: its keymap entry, else its defaults."""
    return keymap.get(key.id) or key.keys


def shown_keys(key: Key, keymap: Mapping[str, str]) -> str:
    """The keys that trigger `key` now, as the user types them."""
    return "  ".join(typed(k) for k in keys_of(key, keymap).split(",") if k.strip())


def rows(keymap: Mapping[str, str]) -> Iterator[tuple[str, str, str, str]]:
    """(context, keys, action, id) of every binding, for help."""
    for context in CONTEXTS.values():
        for k in context.keys:
            if k.keys:
                yield context.name, shown_keys(k, keymap), k.description, k.id


TYPED = {
    "question_mark": "?",
    "colon": ":",
    "slash": "/",
    "space": "Space",
    "enter": "Enter",
    "escape": "Esc",
    "tab": "Tab",
    "plus": "+",
    "minus": "-",
    "up": "Up",
    "down": "Down",
    "left": "Left",
    "right": "Right",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "home": "Home",
    "end": "End",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
}


def typed(key: str) -> str:
    """A Textual key name as the user types it: `question_mark` is ?, `f7` is F7, `ctrl+p` is
    Ctrl+P."""
    key = key.strip()
    *mods, last = key.split("+") if "+" in key[:-1] else [key]
    name = TYPED.get(last)
    if name is None:
        name = last.upper() if len(last) > 1 and last[0] == "f" and last[1:].isdigit() else last
    if mods:
        name = name.upper() if len(name) == 1 else name
        return "+".join([*(m.capitalize() for m in mods), name])
    return name


def palette(context: str, keymap: Mapping[str, str]) -> Iterator[tuple[str, str, str]]:
    """(title, help, action) of `context`'s palette entries; a title names the entry's key."""
    for k in CONTEXTS[context].keys:
        if k.palette is not None:
            bound = keys_of(k, keymap)
            title = f"{k.palette} ({typed(bound.split(',')[0])})" if bound else k.palette
            yield title, k.palette_help, k.action
