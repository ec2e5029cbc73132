//! A small document model with two renderers, so `report.md` and
//! `report.html` say exactly the same thing: headings, paragraphs, labelled
//! fields (the ICO form), tables, images and "to complete" notes.

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
}

/// A document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Doc {
    /// Title (also the first heading).
    pub title: String,
    /// Content.
    pub blocks: Vec<Block>,
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn md_spans(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|s| match s {
            Span::Text(t) => t.clone(),
            Span::ToComplete(t) => format!("**☐ To complete:** {t}"),
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
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Doc {
    /// Renders GitHub-flavoured Markdown; images are linked by path.
    pub fn to_markdown(&self) -> String {
        let mut s = format!("# {}\n", self.title);
        for b in &self.blocks {
            s.push('\n');
            match b {
                Block::Heading(level, text, id) => {
                    let _ = writeln!(
                        s,
                        "<a id=\"{id}\"></a>\n\n{} {}",
                        "#".repeat(usize::from(*level).clamp(1, 6)),
                        text
                    );
                }
                Block::Para(spans) => {
                    let _ = writeln!(s, "{}", md_spans(spans));
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
                        let _ = writeln!(
                            s,
                            "| {n}{} | {} |",
                            md_escape(label),
                            md_escape(&md_spans(spans))
                        );
                    }
                }
                Block::Table(header, rows) => {
                    let _ = writeln!(
                        s,
                        "| {} |",
                        header
                            .iter()
                            .map(|h| md_escape(h))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    );
                    let _ = writeln!(s, "|{}", "---|".repeat(header.len()));
                    for r in rows {
                        let cells: Vec<String> = r
                            .iter()
                            .map(|c| match &c.link {
                                Some((md, _)) => format!("[{}]({})", md_escape(&c.text), md),
                                None => md_escape(&c.text),
                            })
                            .collect();
                        let _ = writeln!(s, "| {} |", cells.join(" | "));
                    }
                }
                Block::Image(path, alt) => {
                    let _ = writeln!(s, "![{}]({})", alt.replace(['[', ']'], ""), path);
                }
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
                        html_escape(id),
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
                                    html_escape(html),
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
@media print{body{max-width:none;margin:0}h2{page-break-before:always}table,figure{page-break-inside:avoid}a{color:inherit;text-decoration:none}}";

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
}
