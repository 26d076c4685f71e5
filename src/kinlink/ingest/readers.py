"""Readers: plain text, HTML, folders and Telegram Desktop exports -> `SourceDocument`s.

This is the only module of the ingest core that touches the file system. Every problem becomes a
`ReadProblem` for that one document (or message) and reading goes on with the rest of the batch.
Messages never quote the document's content: it may hold personal data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kinlink.ingest.model import ReadProblem, SourceDocument
from kinlink.ingest.telegram_html import looks_like_export, page_number, parse_export_page

TEXT_SUFFIXES = {".txt", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
MAX_BYTES = 20 * 1024 * 1024  # a news article or a channel export; anything larger is not for us

ReadItem = SourceDocument | ReadProblem

_URL_LINE = re.compile(r"^\s*(https?://\S+)\s*$")
_DATE_HEADER = re.compile(r"^\s*(?:date|data|дата)\s*:\s*(\d{4}-\d{2}-\d{2})", re.IGNORECASE)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_paths(paths: Iterable[Path | str], default_date: dt.date | None = None) -> Iterator[ReadItem]:
    """Yield documents (or problems) for files, folders and Telegram exports, in a stable order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in iter_folder(path):
                yield from read_file(child, default_date)
        elif path.exists():
            yield from read_file(path, default_date)
        else:
            yield ReadProblem(str(path), "no such file or folder")


def iter_folder(folder: Path) -> list[Path]:
    """Files in a folder (recursively) that look like documents; sidecars and labels are skipped."""
    out: list[Path] = []
    # Telegram Desktop's pages in their own order (messages.html, messages2.html, ..., messages10.html).
    for child in sorted(folder.rglob("*"), key=lambda p: (str(p.parent), page_number(p.name), p.name)):
        if not child.is_file() or child.name.startswith("."):
            continue
        suffix = child.suffix.lower()
        if child.name.endswith(".meta.json"):
            continue
        if suffix in TEXT_SUFFIXES | HTML_SUFFIXES or (suffix == ".json" and _looks_like_export(child)):
            out.append(child)
    return out


def _looks_like_export(path: Path) -> bool:
    if path.name == "result.json":
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return b'"messages"' in head


def read_file(path: Path, default_date: dt.date | None = None) -> Iterator[ReadItem]:
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            yield ReadProblem(str(path), f"file too large ({size} bytes, limit {MAX_BYTES})")
            return
        data = path.read_bytes()
    except OSError as exc:
        yield ReadProblem(str(path), f"cannot read file: {exc.strerror or type(exc).__name__}")
        return
    if not data.strip():
        yield ReadProblem(str(path), "empty file")
        return
    if suffix == ".json":
        yield from read_telegram_export(path, data)
        return
    if _is_binary(data):
        yield ReadProblem(str(path), "binary file, not text or HTML")
        return
    text = _decode(data)
    if text is None:
        yield ReadProblem(str(path), "cannot decode file as UTF-8, UTF-16 or Windows-1251 text")
        return
    meta = _sidecar(path)
    date = _parse_date(meta.get("date")) or default_date
    if suffix in HTML_SUFFIXES and looks_like_export(text):
        yield from read_telegram_html(path, text)
        return
    if suffix in HTML_SUFFIXES or (suffix not in TEXT_SUFFIXES and text.lstrip()[:1] == "<"):
        yield read_html_text(str(path), text, date=date, url=meta.get("url"))
    else:
        yield read_plain_text(str(path), text, date=date, url=meta.get("url"))


def _is_binary(data: bytes) -> bool:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with BOM is text
        return False
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return control > len(sample) * 0.05


def _decode(data: bytes) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:  # older Russian/Ukrainian sites and exports
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        return None
    cyr = sum(1 for c in text if "\u0400" <= c <= "\u04ff")
    return text if cyr > len(text) * 0.2 else None


def _sidecar(path: Path) -> dict[str, Any]:
    """Optional `<file>.meta.json` beside a text or HTML file: {"date": "YYYY-MM-DD", "url": ...}."""
    meta_path = path.with_name(path.name + ".meta.json")
    if not meta_path.exists():
        return {}
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _parse_date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def read_plain_text(
    path: str, text: str, date: dt.date | None = None, url: str | None = None
) -> SourceDocument | ReadProblem:
    """A text file. A URL alone on the first line and `Date: YYYY-MM-DD` header lines are metadata."""
    digest = sha256_text(text)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and (m := _URL_LINE.match(lines[0]) or _DATE_HEADER.match(lines[0])):
        if m.re is _URL_LINE:
            url = url or m.group(1)
        else:
            date = date or _parse_date(m.group(1))
        lines.pop(0)
    body = "\n".join(lines).strip()
    if not body:
        return ReadProblem(path, "no text in file")
    title = next((ln.strip() for ln in lines if ln.strip()), None)
    if title and len(title) > 250:
        title = None
    return SourceDocument(path=path, text=body, sha256=digest, kind="text", title=title, url=url, date=date)


def read_html_text(
    path: str, html: str, date: dt.date | None = None, url: str | None = None
) -> SourceDocument | ReadProblem:
    """Main text of a web page, boilerplate (menus, footers, comments) removed by trafilatura."""
    try:
        import trafilatura  # heavy import, only when HTML is read
    except ImportError as exc:  # a broken install must cost the HTML pages, not the whole batch
        return ReadProblem(path, f"cannot read HTML: the HTML extractor is not installed ({exc.name})")

    digest = sha256_text(html)
    try:
        doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
    except Exception as exc:  # trafilatura raises a variety of parser errors on broken pages
        return ReadProblem(path, f"cannot parse HTML ({type(exc).__name__})")
    text = getattr(doc, "text", None) if doc is not None else None
    if not text or not text.strip():
        return ReadProblem(path, "no article text found in HTML")
    title = getattr(doc, "title", None)
    body = text.strip()
    if title and not body.startswith(title):
        body = f"{title}\n\n{body}"
    return SourceDocument(
        path=path,
        text=body,
        sha256=digest,
        kind="html",
        title=title,
        url=url or getattr(doc, "url", None),
        date=date or _parse_date(getattr(doc, "date", None)),
    )


# --- Telegram Desktop export -------------------------------------------------------------------------


def telegram_text(value: Any) -> str:
    """A message's `text`: a string, or a list of strings and entity objects {"type", "text"}."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts: list[str] = []
        for part in value:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            else:
                raise ValueError("text entity without text")
        return "".join(parts)
    raise ValueError("text is neither a string nor a list")


def _message_media(msg: dict[str, Any]) -> tuple[str, ...]:
    media: list[str] = []
    kind = msg.get("media_type")
    if isinstance(kind, str):
        media.append("video" if "video" in kind or kind == "animation" else kind)
    if "photo" in msg:
        media.append("photo")
    if "file" in msg and not media:
        mime = str(msg.get("mime_type", ""))
        media.append("video" if mime.startswith("video") else "file")
    return tuple(dict.fromkeys(media))


def _message_date(msg: dict[str, Any]) -> dt.date | None:
    # `date` is what the channel's reader saw (local time of the export); fall back to the UTC epoch.
    date = _parse_date(msg.get("date"))
    if date:
        return date
    unix = msg.get("date_unixtime")
    try:
        return dt.datetime.fromtimestamp(int(unix), tz=dt.UTC).date() if unix is not None else None
    except (TypeError, ValueError, OverflowError):
        return None


def read_telegram_export(path: Path, data: bytes) -> Iterator[ReadItem]:
    """One document per channel message with text; service messages and media-only posts are skipped."""
    try:
        export = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        yield ReadProblem(str(path), f"broken Telegram export: not valid JSON{where}")
        return
    if not isinstance(export, dict) or not isinstance(export.get("messages"), list):
        yield ReadProblem(str(path), "not a Telegram export: no 'messages' list")
        return
    channel = export.get("name") if isinstance(export.get("name"), str) else None
    username = None
    if isinstance(export.get("username"), str):
        username = export["username"].lstrip("@")
    for index, msg in enumerate(export["messages"]):
        where = f"{path}#{msg.get('id', f'index{index}') if isinstance(msg, dict) else f'index{index}'}"
        if not isinstance(msg, dict):
            yield ReadProblem(where, "message is not an object")
            continue
        if msg.get("type", "message") != "message":
            continue
        try:
            text = telegram_text(msg.get("text", ""))
        except ValueError as exc:
            yield ReadProblem(where, f"unreadable message text: {exc}")
            continue
        if not text.strip():
            continue
        msg_id = msg.get("id") if isinstance(msg.get("id"), int) else None
        url = f"https://t.me/{username}/{msg_id}" if username and msg_id is not None else None
        forwarded = msg.get("forwarded_from")
        yield SourceDocument(
            path=where,
            text=text.strip(),
            sha256=sha256_text(text),
            kind="telegram",
            title=None,
            url=url,
            date=_message_date(msg),
            message_id=msg_id,
            channel=channel,
            media=_message_media(msg),
            forwarded_from=forwarded if isinstance(forwarded, str) and forwarded.strip() else None,
            links=_json_links(msg.get("text")),
        )


def _json_links(value: Any) -> tuple[str, ...]:
    """Links of a message: `text_link` entities' targets and `link` entities' text."""
    links: list[str] = []
    for part in value if isinstance(value, list) else []:
        if isinstance(part, dict):
            if part.get("type") == "text_link" and isinstance(part.get("href"), str):
                links.append(part["href"])
            elif part.get("type") == "link" and isinstance(part.get("text"), str):
                link = part["text"]
                links.append(link if "://" in link else f"https://{link}")
    return tuple(dict.fromkeys(links))


def read_telegram_html(path: Path, html: str) -> Iterator[ReadItem]:
    """One document per message of a Telegram Desktop HTML export page, like `result.json`."""
    try:
        channel, messages = parse_export_page(html)
    except Exception as exc:  # html.parser is tolerant; anything else is a bug for this one file
        yield ReadProblem(str(path), f"cannot parse Telegram HTML export ({type(exc).__name__})")
        return
    for msg in messages:
        if not msg.text.strip():
            continue  # a photo or a sticker without a caption
        yield SourceDocument(
            path=f"{path}#{msg.message_id}",
            text=msg.text,
            sha256=sha256_text(msg.text),
            kind="telegram",
            date=msg.date,
            message_id=msg.message_id,
            channel=channel,
            media=tuple(msg.media),
            forwarded_from=msg.forwarded_from,
            links=tuple(msg.links),
        )
