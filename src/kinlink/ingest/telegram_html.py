"""Telegram Desktop's HTML export (`messages.html`, `messages2.html`, ...) -> one record per message.

The structure is Telegram Desktop's (Telegram/SourceFiles/export/output/export_output_html.cpp):

    <div class="page_header"> ... <div class="text bold">Channel name</div>
    <div class="history">
      <div class="message service" id="message-1"><div class="body details">3 September 2024</div></div>
      <div class="message default clearfix" id="message401">
        <div class="body">
          <div class="pull_right date details" title="03.09.2024 14:05:33 UTC+03:00">14:05</div>
          <div class="from_name">Channel</div>
          <div class="forwarded body">
            <div class="from_name">Source<span class="date details" title="..."> ...</span></div>
            <div class="text">...</div>
          </div>
          <div class="media_wrap clearfix"><a class="photo_wrap ..." href="photos/...">...</a></div>
          <div class="text">line<br>line <a href="https://...">link</a></div>
      <div class="message default clearfix joined" id="message402"> (same sender, no from_name)

The stdlib `html.parser` is enough (and tolerant of broken markup): the export is flat, regular markup and
what is needed is the class of each enclosing block; no extra dependency for it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

_MESSAGE_ID = re.compile(r"^message(\d+)$")
_STAMP = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})")
_VOID = {"br", "img", "hr", "meta", "link", "input", "source", "wbr"}
HISTORY_MARK = 'class="history"'


@dataclass
class HtmlMessage:
    message_id: int
    date: dt.date | None
    sender: str | None
    text: str
    joined: bool
    forwarded_from: str | None = None
    links: list[str] = field(default_factory=list)
    media: list[str] = field(default_factory=list)


def looks_like_export(html: str) -> bool:
    head = html[:20000]
    return HISTORY_MARK in head and "page_body" in head


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, frozenset[str]]] = []
        self.channel_parts: list[str] | None = None
        self.channel: str | None = None
        self.messages: list[dict] = []
        self.cur: dict | None = None
        self.cur_depth = -1
        self.capture: tuple[str, int] | None = None  # (field, stack depth of the capturing element)
        self.skip_depth = -1  # inside a span of details within a from_name

    # -- helpers
    def _inside(self, cls: str, within_message: bool = True) -> bool:
        start = self.cur_depth if within_message else 0
        return any(cls in classes for _, classes in self.stack[start:])

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = frozenset((a.get("class") or "").split())
        if tag in _VOID:
            if tag == "br" and self.capture and self.cur is not None:
                self.cur[self.capture[0]].append("\n")
            return
        self.stack.append((tag, classes))
        depth = len(self.stack)
        if tag == "div" and "message" in classes and "default" in classes:
            m = _MESSAGE_ID.match(a.get("id") or "")
            self.cur = {
                "id": int(m.group(1)) if m else None,
                "joined": "joined" in classes,
                "stamp": None,
                "from": [],
                "fwd": [],
                "text": [],
                "fwd_block": False,
                "links": [],
                "media": [],
            }
            self.cur_depth = depth - 1
            self.messages.append(self.cur)
            return
        if self.cur is None:
            if tag == "div" and {"text", "bold"} <= classes and self._inside("page_header", False):
                self.channel_parts = []
                self.capture = ("channel", depth)
            return
        cur = self.cur
        if "date" in classes and "details" in classes and cur["stamp"] is None and not self._fwd():
            cur["stamp"] = a.get("title")
        if "forwarded" in classes:
            cur["fwd_block"] = True
        if tag == "div" and "from_name" in classes:
            self.capture = ("fwd" if self._fwd() else "from", depth)
        elif tag == "div" and "text" in classes and not any(map(self._inside, ("reply_to", "media_wrap"))):
            self.capture = ("text", depth)
        elif self.capture and self.capture[0] in ("from", "fwd") and tag == "span":
            self.skip_depth = depth if self.skip_depth < 0 else self.skip_depth
        if tag == "a" and self.capture and self.capture[0] == "text":
            href = a.get("href") or ""
            if href.startswith(("http://", "https://", "tg://")):
                cur["links"].append(href)
        for kind in ("photo", "video", "animated", "voice", "audio"):
            if tag == "a" and any(c.startswith(kind) for c in classes) and self._inside("media_wrap"):
                cur["media"].append("video" if kind in ("video", "animated") else kind)

    def _fwd(self) -> bool:
        return self._inside("forwarded")

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        # Close up to the matching open tag (export markup is well formed; this tolerates stray ends).
        for k in range(len(self.stack) - 1, -1, -1):
            if self.stack[k][0] == tag:
                depth = k + 1
                del self.stack[k:]
                break
        else:
            return
        if self.skip_depth >= 0 and depth <= self.skip_depth:
            self.skip_depth = -1
        if self.capture and depth <= self.capture[1]:
            if self.capture[0] == "channel" and self.channel_parts is not None:
                self.channel = " ".join("".join(self.channel_parts).split()) or None
                self.channel_parts = None
            self.capture = None
        if self.cur is not None and depth <= self.cur_depth + 1:
            self.cur = None
            self.cur_depth = -1

    def handle_data(self, data: str) -> None:
        if not self.capture:
            return
        if self.capture[0] == "channel" and self.channel_parts is not None:
            self.channel_parts.append(data)
        elif self.cur is not None and self.skip_depth < 0:
            self.cur[self.capture[0]].append(data)


def _stamp_date(stamp: str | None) -> dt.date | None:
    m = _STAMP.search(stamp or "")
    if not m:
        return None
    try:
        return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None


def parse_export_page(html: str) -> tuple[str | None, list[HtmlMessage]]:
    """The channel (or chat) name and the messages of one page, in order; a joined message takes the
    sender (and, when its header is left out, the forwarding source) of the one before it."""
    p = _Parser()
    p.feed(html)
    p.close()
    out: list[HtmlMessage] = []
    prev: HtmlMessage | None = None
    for raw in p.messages:
        if raw["id"] is None:
            continue
        sender = " ".join("".join(raw["from"]).split()) or None
        fwd = " ".join("".join(raw["fwd"]).split()) or None
        if raw["joined"] and prev is not None:
            sender = sender or prev.sender
            if raw["fwd_block"] and fwd is None:
                fwd = prev.forwarded_from
        msg = HtmlMessage(
            message_id=raw["id"],
            date=_stamp_date(raw["stamp"]),
            sender=sender,
            text=_text(raw["text"]),
            joined=raw["joined"],
            forwarded_from=fwd,
            links=list(dict.fromkeys(raw["links"])),
            media=list(dict.fromkeys(raw["media"])),
        )
        out.append(msg)
        prev = msg
    return p.channel, out


def _text(parts: list[str]) -> str:
    # The export wraps text blocks in markup newlines ("\n<text>\n"); <br> gave "\n" too. Lines are
    # stripped of the indentation, and the newline that only closes the markup is dropped.
    lines = [ln.strip() for ln in "".join(parts).split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def page_number(name: str) -> int:
    """messages.html -> 1, messages2.html -> 2: the export's page order (a string sort puts 10 before 2)."""
    m = re.fullmatch(r"messages(\d*)\.html?", name)
    return int(m.group(1) or 1) if m else 0
