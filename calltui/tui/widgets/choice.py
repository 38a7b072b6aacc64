"""Radio buttons and check boxes whose state shows in their characters, not in colour alone:
`(*)` chosen and `( )` not, `[x]` ticked and `[ ]` not. Textual's draw the same glyph in either
state and let its colour tell them apart, which NO_COLOR, a monochrome terminal or a colour-blind
reader loses. The radio set leaves Enter to the dialog (it saves), and Space chooses."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox, RadioButton, RadioSet

from calltui.tui import keys


def _drawn(button: RadioButton | Checkbox, left: str, on: str, right: str) -> Content:
    style = button.get_visual_style("toggle--button")
    return Content.assemble(left, (on if button.value else " ", style), right)


class Choice(RadioButton):
    @property
    def _button(self) -> Content:
        return _drawn(self, "(", "*", ")")


class Tick(Checkbox):
    @property
    def _button(self) -> Content:
        return _drawn(self, "[", "x", "]")


class Choices(RadioSet, inherit_bindings=False):
    BINDINGS = keys.bindings("choices")
