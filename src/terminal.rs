//! Text that someone else wrote (post text, file names, a platform's error)
//! shown on an admin's terminal or in the human log: control characters and
//! bidirectional overrides are made visible instead of acting. A post with `ESC[31m` must
//! not turn the admin's terminal red, and U+202E must not reverse an excerpt
//! so that it reads as something else.

use std::borrow::Cow;

/// Whether a character would act on the terminal or reorder the text
/// around it rather than show as itself.
fn acts(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200E}' | '\u{200F}' | '\u{061C}'    // directional marks
            | '\u{202A}'..='\u{202E}'                // embeddings and overrides
            | '\u{2066}'..='\u{2069}'                // isolates
        )
}

/// One character, shown: C0 controls as their control pictures (␛ for ESC,
/// ␇ for BEL, ␊ for a line feed), each a single column wide so that carets
/// under an excerpt still line up; anything else that acts as U+FFFD.
fn shown(c: char) -> char {
    match c as u32 {
        n @ 0..=0x1F => char::from_u32(0x2400 + n).unwrap_or('\u{FFFD}'),
        0x7F => '\u{2421}',
        _ => '\u{FFFD}',
    }
}

/// For text shown over several lines: line feeds and tabs stay.
pub(crate) fn safe(text: &str) -> Cow<'_, str> {
    replace(text, |c| acts(c) && c != '\n' && c != '\t')
}

/// For one line or one table cell: line feeds and tabs are shown too.
pub(crate) fn safe_line(text: &str) -> Cow<'_, str> {
    replace(text, acts)
}

/// For one event of the human log, as the formatter wrote it: a line feed
/// or carriage return inside it (a file named `a\nINFO forged.json`) must
/// not start a line of its own. ESC stays: the formatter's own colours use
/// it, and tracing-subscriber already escapes ESC in field values.
pub(crate) fn safe_log_event(event: &str) -> String {
    let (body, end) = match event.strip_suffix('\n') {
        Some(body) => (body, "\n"),
        None => (event, ""),
    };
    let mut out = replace(body, |c| acts(c) && c != '\u{1b}' && c != '\t').into_owned();
    out.push_str(end);
    out
}

fn replace(text: &str, unsafe_char: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&unsafe_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if unsafe_char(c) { shown(c) } else { c })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_overrides_are_shown_not_obeyed() {
        assert_eq!(safe("\u{1b}[31mred\u{7}"), "␛[31mred␇");
        assert_eq!(safe("abc\u{202E}fed"), "abc\u{FFFD}fed");
        assert_eq!(safe("two\nlines\tand tab"), "two\nlines\tand tab");
        assert_eq!(safe_line("name\nforged"), "name␊forged");
        assert_eq!(safe("\u{9b}2J"), "\u{FFFD}2J", "C1 control sequence introducer");
        assert!(matches!(safe("普通の投稿 🎉"), Cow::Borrowed(_)));
        assert_eq!(
            safe_log_event("\u{1b}[32m INFO\u{1b}[0m file=a\n INFO forged.json\n"),
            "\u{1b}[32m INFO\u{1b}[0m file=a␊ INFO forged.json\n"
        );
        // One column per character: carets under an excerpt still fit.
        assert_eq!(safe("a\u{1b}b").chars().count(), 3);
    }
}
