//! A small document model with two renderers, so `report.md` and
//! `report.html` say exactly the same thing: headings, paragraphs, labelled
//! fields (the ICO form), tables, images and "to complete" notes.
//!
//! All text of the model is text, never markup: names, planned-window
//! reasons and labels come from the data and may be hostile. Both renderers
//! show control characters escaped and line breaks as spaces ([`plain`]);
//! Markdown escapes everything that could make a tag, link, image, emphasis,
//! table cell or new block ([`md_text`]); HTML escapes `&`, `<`, `>`, `"`.
//! Link and image targets are made by the tool (chart paths, `#anchors`) and
//! are percent-encoded anyway ([`href`]), so none can carry a scheme such as
//! `javascript:`. The one piece of markup, code such as a command, is
//! [`Span::Code`], written only by the tool.

use std::borrow::Cow;
use std::fmt::Write as _;

/// A table cell: text, optionally a link (Markdown target, HTML target).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Text shown.
    pub text: String,
    /// (Markdown href, HTML href).
    pub link: Option<(String, String)>,
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell { text, link: None }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell {
            text: text.to_string(),
            link: None,
        }
    }
}

/// Part of a field's value: plain text, or text a person must complete.
#[derive(Debug, Clone, PartialEq)]
pub enum Span {
    /// Plain text.
    Text(String),
    /// Something only a person can fill in; never invented by the tool.
    ToComplete(String),
    /// A command or file name written by the tool (no backtick in it):
    /// `` `code` `` in Markdown, shown with its backticks in HTML.
    Code(String),
}

/// A block of the document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Heading of level 1–3 with an anchor id.
    Heading(u8, String, String),
    /// A paragraph.
    Para(Vec<Span>),
    /// Labelled fields; numbered when they are the ICO form's questions.
    Fields(bool, Vec<(String, Vec<Span>)>),
    /// A table.
    Table(Vec<String>, Vec<Vec<Cell>>),
    /// An image (path relative to the report folder) with alternative text.
    Image(String, String),
    /// On paper, what follows starts a new page (each loss's referral
    /// section prints on pages of its own); nothing on screen or in Markdown.
    PageBreak,
}

/// A document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Doc {
    /// Title (also the first heading).
    pub title: String,
    /// Content.
    pub blocks: Vec<Block>,
}

pub use crate::fmt::plain;

/// Text as Markdown inline content that renders as exactly that text: no
/// raw HTML (`<` before a tag or autolink becomes `&lt;`, `>` `&gt;`, `&`
/// before an entity `&amp;`), no link, image, emphasis, strike-through or
/// code (`[`, `]`, `*`, `_`, `` ` ``, `~` and `\` backslash-escaped), no
/// table-cell break (`|`), no new line ([`plain`]). Ordinary text (letters,
/// digits, spaces, `-`, `(`, `)`, `.`, `,`, `:`, `'`, `"`, `%`, `#`, `—`,
/// `<` followed by a space) is unchanged. At the start of a line see
/// [`md_block`].
fn md_text(s: &str) -> String {
    let s = plain(s);
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    let mut prev = None;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        match c {
            // `(` only after `]`: `\]\(` even for a renderer lax about escapes
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '(' if prev == Some(']') => out.push_str("\\("),
            '<' if next.is_some_and(|n| !n.is_whitespace()) => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' if next.is_some_and(|n| n.is_ascii_alphanumeric() || n == '#') => {
                out.push_str("&amp;")
            }
            _ => out.push(c),
        }
        prev = Some(c);
    }
    out
}

/// Inline Markdown (from [`md_text`]) made safe at the start of a line, as a
/// heading's or paragraph's text: `#` at the start or after a space (a
/// heading, or a heading's closing `#`s) is escaped, and so is whatever
/// would start a list, a heading underline or an indented code block.
fn md_block(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if c == '#' && prev.is_none_or(char::is_whitespace) {
            out.push('\\');
        }
        out.push(c);
        prev = Some(c);
    }
    block_start(&mut out);
    out
}

/// Escapes what would make the start of a line a list item, a heading
/// underline or an indented code block.
fn block_start(out: &mut String) {
    let trimmed = out.trim_start();
    if trimmed.len() != out.len() {
        *out = trimmed.to_string();
    }
    if out.starts_with(['-', '+', '=']) {
        out.insert(0, '\\');
    } else {
        // `1.` or `1)` starts an ordered list
        let digits = out.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && matches!(out.as_bytes().get(digits), Some(b'.' | b')')) {
            out.insert(digits, '\\');
        }
    }
}

/// A link or image target as the tool writes it (a relative path or an
/// `#anchor`): anything but ASCII letters, digits and `-._~/#` is
/// percent-encoded, so no target can name a scheme (`javascript:`), end the
/// Markdown link early (`)`, space) or leave an HTML attribute (`"`).
pub fn href(s: &str) -> Cow<'_, str> {
    let ok = |b: u8| b.is_ascii_alphanumeric() || b"-._~/#".contains(&b);
    if s.bytes().all(ok) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if ok(b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    Cow::Owned(out)
}

fn html_escape(s: &str) -> String {
    plain(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Spans as inline Markdown.
fn md_spans(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|s| match s {
            Span::Text(t) => md_text(t),
            Span::ToComplete(t) => format!("**☐ To complete:** {}", md_text(t)),
            Span::Code(t) => format!("`{}`", plain(t).replace('`', "'")),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn html_spans(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|s| match s {
            Span::Text(t) => html_escape(t),
            Span::ToComplete(t) => format!(
                "<span class=\"todo\">☐ To complete: {}</span>",
                html_escape(t)
            ),
            Span::Code(t) => format!("<code>{}</code>", html_escape(t)),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Doc {
    /// Renders GitHub-flavoured Markdown; images are linked by path.
    pub fn to_markdown(&self) -> String {
        let mut s = format!("# {}\n", md_block(&md_text(&self.title)));
        for b in &self.blocks {
            if *b == Block::PageBreak {
                continue; // paper only
            }
            s.push('\n');
            match b {
                Block::Heading(level, text, id) => {
                    let _ = writeln!(
                        s,
                        "<a id=\"{}\"></a>\n\n{} {}",
                        html_escape(&href(id)),
                        "#".repeat(usize::from(*level).clamp(1, 6)),
                        md_block(&md_text(text))
                    );
                }
                Block::Para(spans) => {
                    let _ = writeln!(s, "{}", md_block(&md_spans(spans)));
                }
                Block::Fields(numbered, fields) => {
                    if *numbered {
                        let _ = writeln!(s, "| # | question | answer |\n|---:|---|---|");
                    } else {
                        let _ = writeln!(s, "| | |\n|---|---|");
                    }
                    for (i, (label, spans)) in fields.iter().enumerate() {
                        let n = if *numbered {
                            format!("{} | ", i + 1)
                        } else {
                            String::new()
                        };
                        let _ = writeln!(s, "| {n}{} | {} |", md_text(label), md_spans(spans));
                    }
                }
                Block::Table(header, rows) => {
                    let _ = writeln!(
                        s,
                        "| {} |",
                        header
                            .iter()
                            .map(|h| md_text(h))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    );
                    let _ = writeln!(s, "|{}", "---|".repeat(header.len()));
                    for r in rows {
                        let cells: Vec<String> = r
                            .iter()
                            .map(|c| match &c.link {
                                Some((md, _)) => format!("[{}]({})", md_text(&c.text), href(md)),
                                None => md_text(&c.text),
                            })
                            .collect();
                        let _ = writeln!(s, "| {} |", cells.join(" | "));
                    }
                }
                Block::Image(path, alt) => {
                    let _ = writeln!(s, "![{}]({})", md_text(alt), href(path));
                }
                Block::PageBreak => {}
            }
        }
        s
    }

    /// Renders one self-contained HTML page; `embed` returns the bytes of an
    /// image so it can be inlined as a data URI (the page opens offline).
    pub fn to_html(&self, embed: &dyn Fn(&str) -> Option<Vec<u8>>) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
            html_escape(&self.title),
            CSS,
            html_escape(&self.title)
        );
        for b in &self.blocks {
            match b {
                Block::Heading(level, text, id) => {
                    let l = (*level).clamp(1, 6);
                    let _ = writeln!(
                        s,
                        "<h{l} id=\"{}\">{}</h{l}>",
                        html_escape(&href(id)),
                        html_escape(text)
                    );
                }
                Block::Para(spans) => {
                    let _ = writeln!(s, "<p>{}</p>", html_spans(spans));
                }
                Block::Fields(numbered, fields) => {
                    let _ = writeln!(s, "<table class=\"form\"><tbody>");
                    for (i, (label, spans)) in fields.iter().enumerate() {
                        let n = if *numbered {
                            format!("<td class=\"n\">{}</td>", i + 1)
                        } else {
                            String::new()
                        };
                        let _ = writeln!(
                            s,
                            "<tr>{n}<th>{}</th><td>{}</td></tr>",
                            html_escape(label),
                            html_spans(spans)
                        );
                    }
                    let _ = writeln!(s, "</tbody></table>");
                }
                Block::Table(header, rows) => {
                    let _ = writeln!(
                        s,
                        "<table class=\"list\"><thead><tr>{}</tr></thead><tbody>",
                        header
                            .iter()
                            .map(|h| format!("<th>{}</th>", html_escape(h)))
                            .collect::<String>()
                    );
                    for r in rows {
                        let cells: String = r
                            .iter()
                            .map(|c| match &c.link {
                                Some((_, html)) => format!(
                                    "<td><a href=\"{}\">{}</a></td>",
                                    html_escape(&href(html)),
                                    html_escape(&c.text)
                                ),
                                None => format!("<td>{}</td>", html_escape(&c.text)),
                            })
                            .collect();
                        let _ = writeln!(s, "<tr>{cells}</tr>");
                    }
                    let _ = writeln!(s, "</tbody></table>");
                }
                Block::Image(path, alt) => match embed(path) {
                    Some(bytes) => {
                        let _ = writeln!(s, "<figure><img alt=\"{}\" src=\"data:image/png;base64,{}\"><figcaption>{}</figcaption></figure>", html_escape(alt), base64(&bytes), html_escape(alt));
                    }
                    None => {
                        let _ = writeln!(
                            s,
                            "<p class=\"missing\">(chart {} not available)</p>",
                            html_escape(path)
                        );
                    }
                },
                Block::PageBreak => s.push_str("<div class=\"page-break\"></div>\n"),
            }
        }
        s.push_str("</body>\n</html>\n");
        s
    }
}

const CSS: &str = "body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#212121;line-height:1.45}\
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:2px solid #0072b2;padding-bottom:.2em}h3{margin-top:1.6em}\
table{border-collapse:collapse;margin:1em 0;font-size:.92em;width:100%}th,td{border:1px solid #ccc;padding:.35em .5em;text-align:left;vertical-align:top}\
thead th{background:#eef4f8}table.form th{width:28%;background:#f7f7f7}td.n{width:2em;text-align:right;color:#666}\
.todo{background:#fff3c4;border:1px dashed #e69f00;padding:0 .3em}figure{margin:1em 0}img{max-width:100%;border:1px solid #ddd}\
figcaption{font-size:.85em;color:#666}a{color:#0072b2}\
@media print{body{max-width:none;margin:0}h2{break-before:page;page-break-before:always}.page-break{break-before:page;page-break-before:always}table,figure{page-break-inside:avoid}a{color:inherit;text-decoration:none}}";

/// Standard base64 (RFC 4648) with padding.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_reference_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn escaping_and_todo() {
        let d = Doc {
            title: "T <1>".into(),
            blocks: vec![
                Block::Para(vec![
                    Span::Text("a|b & c".into()),
                    Span::ToComplete("who".into()),
                ]),
                Block::Table(
                    vec!["h".into()],
                    vec![vec![Cell {
                        text: "x|y".into(),
                        link: Some(("c.png".into(), "#c".into())),
                    }]],
                ),
            ],
        };
        let md = d.to_markdown();
        assert!(md.contains("**☐ To complete:** who"));
        assert!(md.contains("[x\\|y](c.png)"));
        let html = d.to_html(&|_| None);
        assert!(html.contains("<title>T &lt;1&gt;</title>"));
        assert!(html.contains("a|b &amp; c"));
        assert!(html.contains("class=\"todo\""));
        assert!(html.contains("<a href=\"#c\">x|y</a>"));
    }

    #[test]
    fn markdown_text_is_never_markup() {
        // ordinary text is unchanged
        for s in [
            "Kent Police — Body-worn video, 22 Apr 2023",
            "Evidence store migration (no loss expected) (exceeded)",
            "p < 1e-300",
            "1 TB = 10^12 bytes; s.67(6), \"to complete\", 19.9%",
            "#",
        ] {
            assert_eq!(md_text(s), s);
        }
        assert_eq!(
            md_text("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            md_text("<img src=x onerror=alert(1)>"),
            "&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(
            md_text("[x](javascript:alert(1))"),
            "\\[x\\]\\(javascript:alert(1))"
        );
        assert_eq!(md_text("![i](y)"), "!\\[i\\]\\(y)");
        assert_eq!(
            md_text("*a* _b_ `c` ~~d~~ e|f \\"),
            "\\*a\\* \\_b\\_ \\`c\\` \\~\\~d\\~\\~ e\\|f \\\\"
        );
        assert_eq!(md_text("&amp; & x"), "&amp;amp; & x");
        assert_eq!(md_text("A\n# Injected\r\nB"), "A # Injected  B");
        assert_eq!(md_text("a\x1b]0;x\x07"), "a\\\\x1b\\]0;x\\\\x07");
        // at the start of a line
        assert_eq!(md_block(&md_text("# x")), "\\# x");
        assert_eq!(md_block(&md_text("Kent #")), "Kent \\#");
        assert_eq!(md_block(&md_text("C#")), "C#");
        assert_eq!(md_block(&md_text("- x")), "\\- x");
        assert_eq!(md_block(&md_text("   + x")), "\\+ x");
        assert_eq!(md_block(&md_text("12. x")), "12\\. x");
        assert_eq!(md_block(&md_text("715 GB (100.0%)")), "715 GB (100.0%)");
    }

    #[test]
    fn link_targets_and_ids_cannot_carry_a_scheme() {
        assert_eq!(
            href("charts/kent-police-custody-2023-04-07.png"),
            "charts/kent-police-custody-2023-04-07.png"
        );
        assert_eq!(href("#kent-loss-2023-04-07"), "#kent-loss-2023-04-07");
        assert_eq!(href("javascript:alert(1)"), "javascript%3Aalert%281%29");
        assert_eq!(href("a b\")x"), "a%20b%22%29x");
        let d = Doc {
            title: "t".into(),
            blocks: vec![
                Block::Heading(3, "<b>".into(), "x\"><script>".into()),
                Block::Image("javascript:alert(1)".into(), "]<x>".into()),
                Block::Para(vec![Span::Code("scan --max-details N".into())]),
            ],
        };
        let md = d.to_markdown();
        assert!(md.contains("<a id=\"x%22%3E%3Cscript%3E\"></a>"), "{md}");
        assert!(md.contains("### &lt;b&gt;\n"), "{md}");
        assert!(
            md.contains("![\\]&lt;x&gt;](javascript%3Aalert%281%29)"),
            "{md}"
        );
        assert!(md.contains("\n`scan --max-details N`\n"), "{md}");
        let html = d.to_html(&|_| None);
        assert!(
            html.contains("<h3 id=\"x%22%3E%3Cscript%3E\">&lt;b&gt;</h3>"),
            "{html}"
        );
        assert!(
            html.contains("<p><code>scan --max-details N</code></p>"),
            "{html}"
        );
    }
}
