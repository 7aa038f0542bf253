"""Self-contained HTML pages (`sim report`, `sim compare`): inline CSS, images as base64 data URIs, no
scripts, no links to files, and no path of the machine the page was made on (`no_paths`), so a page can be
attached to a ticket and opened anywhere. Also a small markdown-to-HTML for the reports the commands
already write (solve_report.md, quota_report.md): headings, paragraphs, lists, tables, bold, code."""
from __future__ import annotations

import base64
import html
import os
import re
from pathlib import Path

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;max-width:1180px;margin:24px auto;padding:0 16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:28px}
h3{font-size:16px;margin-top:20px}.meta{color:#59636e;margin:0 0 12px}
table{border-collapse:collapse;margin:8px 0 12px;font-size:13px;max-width:100%}th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:right;vertical-align:top;overflow-wrap:anywhere}
th{background:#f6f8fa;overflow-wrap:normal}td:first-child,th:first-child{text-align:left}td.text,th.text{text-align:left}
img{max-width:100%;border:1px solid #d0d7de;margin:6px 0}figure{margin:12px 0}figcaption{color:#59636e;font-size:13px}
.warn{background:#fff8c5;border:1px solid #d4a72c;padding:6px 10px;margin:6px 0}code{background:#f6f8fa;padding:0 3px}
.better{color:#1a7f37}.worse{color:#cf222e}
"""

# An absolute path of this machine (/home/x/..., /tmp/..., C:\...): not preceded by a letter, a colon or a
# slash, so key names (projects/p/locations/...) and URLs (https://host/...) are left alone.
ABSOLUTE_PATH = re.compile(r"(?<![\w:/.\\-])(?:/(?:[\w.@+-]+/)+[\w.@+-]*|[A-Za-z]:\\(?:[\w.@+ -]+\\)*[\w.@+-]*)")


def no_paths(text: str) -> str:
    """`text` with every absolute path of the machine replaced by its last part (a file's name)."""
    return ABSOLUTE_PATH.sub(lambda m: re.split(r"[/\\]", m.group(0).rstrip("/\\"))[-1] or "…", text)


def esc(value) -> str:
    """Escaped text for the page, with machine paths removed."""
    return html.escape(no_paths(str(value)), quote=True)


def image(path: Path, caption: str = "") -> str:
    """A PNG embedded as a data URI, with a caption."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    alt = esc(caption or Path(path).stem)
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{alt}" src="data:image/png;base64,{data}">{cap}</figure>'


def table(header, rows, text_columns: int = 1) -> str:
    """An HTML table; the first `text_columns` columns are left-aligned text, the others numbers."""
    def cell(tag, i, v):
        cls = ' class="text"' if i < text_columns else ""
        if isinstance(v, float):
            v = f"{v:,.0f}" if v.is_integer() and abs(v) >= 1000 else f"{v:g}"
        text = v if isinstance(v, Markup) else esc("" if v is None else v)
        if tag == "th":                          # long figure paths break after a dot, never inside a word
            text = text.replace(".", ".<wbr>")
        return f"<{tag}{cls}>{text}</{tag}>"
    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Markup(str):
    """HTML that `table` and `page` put in as it is (already escaped)."""


def page(title: str, sections: list[str], subtitle: str = "") -> str:
    """A whole page from HTML sections."""
    sub = f'<p class="meta">{esc(subtitle)}</p>' if subtitle else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{esc(title)}</title>\n"
            f"<style>{CSS}</style>\n</head>\n<body>\n<h1>{esc(title)}</h1>\n{sub}\n" + "\n".join(sections)
            + "\n</body>\n</html>\n")


def write_file_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path` and move it into place (never a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")      # open(..., "x"): the usual permissions
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def begins_with(path: Path, mark: str) -> bool:
    """Whether the file at `path` begins with `mark` (a page this program wrote and may replace)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read(len(mark)) == mark


# -- markdown (the subset the commands write) ------------------------------------------------------------
def inline(text: str) -> str:
    """One line of markdown: escaped, with `code` and **bold**."""
    out = esc(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"!\[[^\]]*\]\([^)]*\)", "", out)          # images are embedded separately


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def markdown(text: str, skip_title: bool = True) -> str:
    """HTML of the markdown the commands write: `#` headings (the first one left out with `skip_title`: the
    page has its own), paragraphs, `- ` lists, `|` tables, **bold**, `code`."""
    out, para, items, rows = [], [], [], []

    def flush():
        if para:
            out.append(f"<p>{inline(' '.join(para))}</p>")
            para.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in items) + "</ul>")
            items.clear()
        if rows:
            body = [r for r in rows[1:] if not all(re.fullmatch(r":?-+:?", c) for c in r)]
            out.append(table(rows[0], [[Markup(inline(c)) for c in r] for r in body]))
            rows.clear()

    first_heading = True
    for line in text.splitlines():
        stripped = line.strip()
        heading = re.match(r"(#{1,4})\s+(.*)", stripped)
        if heading:
            flush()
            if not (first_heading and skip_title):
                level = min(len(heading.group(1)) + 1, 4)
                out.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
            first_heading = False
        elif stripped.startswith("|"):
            if para or items:
                flush()
            rows.append(_cells(stripped))
        elif stripped.startswith(("- ", "* ")):
            if para or rows:
                flush()
            items.append(stripped[2:])
        elif not stripped:
            flush()
        elif items and line.startswith("  "):
            items[-1] += " " + stripped
        else:
            if rows:
                flush()
            para.append(stripped)
    flush()
    return "\n".join(out)
