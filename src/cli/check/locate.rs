//! Where a part's text sits in its post file, so that findings (whose
//! offsets are in the part's text) can be shown at the file's line and
//! column (SARIF, editors) and fixes can be written back into the file.
//!
//! A Markdown part is the file's text itself (with CRLF line ends if the
//! file has them); a JSON part is a string literal, found by encoding the
//! text the way serde_json does. A file that spells its text differently
//! (`\u3042` escapes) cannot be located; then only part-relative positions
//! are reported and no fix is written.

use crate::queue::Format;

/// How a part's text is spelled in the file.
#[derive(Debug, Clone, Copy)]
enum Spelling {
    /// Markdown: as is, `\n` written as `\r\n` when `crlf`.
    Raw { crlf: bool },
    /// JSON: a string literal's contents.
    Json,
}

/// One part's place in the file.
#[derive(Debug, Clone, Copy)]
pub struct PartInFile {
    /// Byte offset in the file of the part's first byte.
    pub start: usize,
    spelling: Spelling,
}

impl PartInFile {
    /// The text as the file spells it.
    pub fn encode(&self, text: &str) -> String {
        match self.spelling {
            Spelling::Raw { crlf: true } => text.replace('\n', "\r\n"),
            Spelling::Raw { crlf: false } => text.to_string(),
            Spelling::Json => {
                let quoted = serde_json::to_string(text).expect("strings always serialise");
                quoted[1..quoted.len() - 1].to_string()
            }
        }
    }

    /// The file offset of byte `offset` of the part's text.
    pub fn file_offset(&self, text: &str, offset: usize) -> usize {
        self.start + self.encode(&text[..offset]).len()
    }
}

/// Finds each part, in order, in the file's text; `None` for a part whose
/// spelling is not the one herald would write.
pub fn locate_parts(file: &str, format: Format, parts: &[&str]) -> Vec<Option<PartInFile>> {
    let (mut from, spelling) = match format {
        Format::Json => (0, Spelling::Json),
        Format::Markdown => {
            let crlf = file.contains("\r\n");
            // The body starts after the front matter's closing line.
            let nl = if crlf { "\r\n" } else { "\n" };
            let opening = format!("---{nl}");
            let body = if file.starts_with(&opening) {
                let closing = format!("{nl}---{nl}");
                file[opening.len() - nl.len()..]
                    .find(&closing)
                    .map_or(0, |i| opening.len() - nl.len() + i + closing.len())
            } else {
                0
            };
            (body, Spelling::Raw { crlf })
        }
    };
    parts
        .iter()
        .map(|text| {
            let probe = PartInFile { start: 0, spelling };
            let encoded = probe.encode(text);
            let found = match spelling {
                Spelling::Json => file[from..].find(&format!("\"{encoded}\"")).map(|i| from + i + 1),
                Spelling::Raw { .. } => file[from..].find(&encoded).map(|i| from + i),
            };
            found.map(|start| {
                from = start + encoded.len();
                PartInFile { start, spelling }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_parts_are_found_inside_their_string_literals() {
        let file = "{\n  \"thread\": [\"a \\\"q\\\"\\nb\", \"c\"],\n  \"kind\": \"news\"\n}";
        let found = locate_parts(file, Format::Json, &["a \"q\"\nb", "c"]);
        let first = found[0].unwrap();
        assert_eq!(&file[first.start..first.start + 2], "a ");
        // Byte 6 of the text ("b") comes after an escaped quote pair and \n.
        assert_eq!(&file[first.file_offset("a \"q\"\nb", 6)..][..1], "b");
        assert_eq!(&file[found[1].unwrap().start..][..1], "c");
    }

    #[test]
    fn markdown_parts_skip_the_front_matter_and_keep_crlf() {
        let file = "---\r\nkind: news\r\n---\r\nnews of\r\nthe day\r\n";
        let found = locate_parts(file, Format::Markdown, &["news of\nthe day"]);
        let p = found[0].unwrap();
        assert_eq!(p.start, "---\r\nkind: news\r\n---\r\n".len());
        assert_eq!(&file[p.file_offset("news of\nthe day", 8)..][..3], "the");
    }

    #[test]
    fn unicode_escapes_cannot_be_located() {
        let found = locate_parts("{\"text\": \"\\u3042\"}", Format::Json, &["あ"]);
        assert!(found[0].is_none());
    }
}
