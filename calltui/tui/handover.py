"""The one handoff path of a call, from the table and from the detail alike: copy as curl
(`c`), the redacted bundle (`B`) and the SIP capture (`p`).

- curl: calltui.handoff.curl_for as one plain line on the clipboard (credentials as $VARIABLES);
- bundle: calltui.handoff.write_bundle, redacted JSON for a carrier ticket, in the working dir,
  with the related calls Session.related finds (the same set wherever B is pressed);
- pcap: calltui.handoff.save_pcap where the provider serves captures, then, when sngrep,
  Wireshark or tshark is on PATH, asks whether to open it (screens.export.OpenWithScreen).
Files go to the working directory, as F2's CSV does, and the toast says where.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App

from calltui import handoff
from calltui.http import ProviderError
from calltui.model import Call, CallDetail
from calltui.session import Session
from calltui.text import inert
from calltui.tui import clipboard


class Handover:
    def __init__(
        self,
        session: Session,
        listed: Callable[[], list[str]],
        view: Callable[[], str | None] = lambda: None,
    ) -> None:
        """`listed`: the accounts the table lists now (the others are asked for related
        calls); `view`: the spec of the view shown (the bundle carries it)."""
        self.session = session
        self.listed = listed
        self.view = view

    async def detail(self, app: App[Any], call: Call, *, toast: bool = True) -> CallDetail | None:
        """The call's drill-down, or None when it failed (why: Session.detail_error, and a
        toast unless `toast` is off)."""
        try:
            return await self.session.detail(call)
        except ProviderError as e:
            if toast:
                app.notify(inert(str(e), 300), title="detail failed", severity="error")
            return None

    def curl(self, app: App[Any], call: Call) -> str | None:
        """The curl command behind `call`'s record on the clipboard, as plain text; the line."""
        try:
            line = handoff.curl_for(self.session.engine.provider(call.account), call)
        except (NotImplementedError, KeyError, ValueError) as e:
            app.notify(f"no curl for this call: {inert(e, 120)}", severity="warning")
            return None
        line = inert(line)  # one line, no control character: it is pasted into a shell
        clipboard.copy(app, line, f"curl for {call.id}", " (credentials as $VARIABLES)")
        return line

    async def bundle(self, app: App[Any], call: Call) -> Path | None:
        """The redacted bundle of `call` in the working dir (its drill-down fetched if need
        be)."""
        detail = await self.detail(app, call)
        if detail is None:
            return None
        chain, found = await self.session.chain(call, self.listed(), steps=True)
        try:
            path = await asyncio.to_thread(
                handoff.write_bundle,
                detail,
                Path.cwd(),
                settings=self.session.settings,
                related=found.relations,
                now=self.session.now(),
                view=self.view(),
                chain=chain,
            )
        except OSError as e:
            app.notify(f"bundle not saved: {inert(e.strerror or e, 120)}", severity="error")
            return None
        app.notify(f"redacted bundle saved to {inert(path, 200)}", timeout=5)
        return path

    async def pcap(self, app: App[Any], call: Call) -> Path | None:
        """`call`'s SIP capture saved in the working dir; then offers to open it. Runs in a
        worker (it waits for the user's answer)."""
        provider = self.session.engine.provider(call.account)
        try:
            path = await handoff.save_pcap(provider, call, Path.cwd())
        except handoff.HandoffError as e:
            app.notify(inert(e, 200), severity="warning")
            return None
        except ProviderError as e:
            app.notify(inert(e, 300), title="pcap not saved", severity="error")
            return None
        except OSError as e:
            app.notify(f"pcap not saved: {inert(e.strerror or e, 120)}", severity="error")
            return None
        viewers = handoff.pcap_viewers()
        if not viewers:
            app.notify(f"pcap saved to {inert(path, 200)} (no sngrep or Wireshark on PATH)")
            return path
        # Imported when first asked (the clipboard's dialog says why).
        from calltui.tui.screens.export import OpenWithScreen, open_in

        viewer = await app.push_screen_wait(OpenWithScreen(path, viewers))
        if viewer is not None:
            open_in(app, viewer, path)
        return path
