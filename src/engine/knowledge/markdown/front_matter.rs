//! Optional TOML front matter between `+++` lines: a file's kind, title,
//! source and what applies to all its units.
//!
//! A problem in it is reported at its line and the whole front matter is
//! then ignored, so the body still loads as ordinary sections.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::engine::knowledge::Diagnostic;

/// Which builder turns the file's blocks into units; `sections` when not given.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum FileKind {
    #[default]
    Sections,
    Faq,
    Comparison,
    Roadmap,
    Synonyms,
    Examples,
}

/// What front matter may set; every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct FrontMatter {
    pub(super) kind: FileKind,
    pub(super) title: Option<String>,
    pub(super) source: Option<String>,
    pub(super) keywords: Vec<String>,
    pub(super) phases: Vec<u8>,
    pub(super) months: Option<u32>,
    pub(super) row_keywords: BTreeMap<String, String>,
}

/// The front matter, the body after it and the body's first line. A UTF-8
/// byte order mark (which some Windows editors write) is skipped, so it
/// cannot hide the `+++` line or the first heading.
pub(super) fn split_front_matter<'t>(name: &str, text: &'t str) -> (FrontMatter, &'t str, usize, Vec<Diagnostic>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text.strip_prefix("+++\n").or_else(|| text.strip_prefix("+++\r\n")) else {
        return (FrontMatter::default(), text, 1, Vec::new());
    };
    let Some(end) = rest.find("\n+++") else {
        let unclosed = Diagnostic::error(name, 1, "front matter opened with `+++` is never closed");
        return (FrontMatter::default(), text, 1, vec![unclosed]);
    };
    let toml_text = &rest[..end + 1];
    let after = &rest[end + 4..];
    let after = after.strip_prefix("\r\n").or_else(|| after.strip_prefix('\n')).unwrap_or(after);
    let body_line = 2 + toml_text.lines().count() + 1;
    match toml::from_str::<FrontMatter>(toml_text) {
        Ok(front) => (front, after, body_line, Vec::new()),
        Err(err) => {
            let line = err.span().map_or(0, |span| line_at(toml_text, span.start)) + 2;
            let message = format!("front matter: {}", err.message());
            (FrontMatter::default(), after, body_line, vec![Diagnostic::error(name, line, message)])
        }
    }
}

/// 0-based line of a byte offset.
fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::super::snapshot::check_parse;
    use crate::engine::knowledge::Knowledge;

    #[test]
    fn a_byte_order_mark_hides_neither_the_first_heading_nor_the_front_matter() {
        let none = Knowledge::default();
        check_parse(
            &none,
            "\u{feff}# Guide\n\nText.\n",
            r#"
            0: section a/guide @3 "Guide" in Guide
              text: "Text."
            "#,
        );
        check_parse(
            &none,
            "\u{feff}+++\nkind = \"faq\"\n+++\n# FAQ\n## Why?\nBecause.\n",
            r#"
            0: faq a/why @5 "Why?" in FAQ
              text: "Because."
            faq: [0]
            "#,
        );
    }

    #[test]
    fn crlf_front_matter_and_body_leave_no_carriage_returns() {
        let text =
            "+++\r\nkind = \"faq\"\r\ntitle = \"Questions\"\r\n+++\r\n# FAQ\r\n\r\n## Why? ##\r\nBecause\r\nit is.\r\n";
        check_parse(
            &Knowledge::default(),
            text,
            r#"
            0: faq a/why @7 "Why?" in Questions
              text: "Because it is."
            faq: [0]
            "#,
        );
    }

    #[test]
    fn front_matter_problems_name_their_line_and_the_body_still_loads() {
        let none = Knowledge::default();
        // The front matter is dropped whole, `kind` included.
        check_parse(
            &none,
            "+++\nkind = \"faq\"\nnope = 1\n+++\n# T\n\nText.\n",
            r#"
            0: section a/t @7 "T" in T
              text: "Text."
            a.md:3: error: front matter: unknown field `nope`, expected one of `kind`, `title`, `source`, `keywords`, `phases`, `months`, `row_keywords`
            "#,
        );
        check_parse(
            &none,
            "+++\nkind = \"nope\"\n+++\n# T\n\nText.\n",
            r#"
            0: section a/t @6 "T" in T
              text: "Text."
            a.md:2: error: front matter: unknown variant `nope`, expected one of `sections`, `faq`, `comparison`, `roadmap`, `synonyms`, `examples`
            "#,
        );
        // Unclosed, the front matter is read as Markdown.
        check_parse(
            &none,
            "+++\ntitle = \"T\"\n\n# T\n\nText.\n",
            r#"
            0: section a/t @1 "T" in T
              text: "+++ title = \"T\""
            1: section a/t @6 "T" in T
              text: "Text."
            a.md:1: error: front matter opened with `+++` is never closed
            "#,
        );
        check_parse(
            &none,
            "+++\nphases = [0, 2]\n+++\n# T\n\nText.\n",
            r#"
            0: section a/t @6 "T" in T
              text: "Text."
              phases: [0, 2]
            a.md:1: error: phase numbers start at 1
            "#,
        );
    }
}
