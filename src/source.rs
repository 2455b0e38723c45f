//! Positions in source text: every error about bad input names a line and a
//! column, and the parsers of config and post files all report byte offsets.

/// A 1-based line and column, the column counted in characters (not bytes),
/// because that is what an editor's status bar shows an owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `text`. Offsets past the end clamp to
    /// the end; offsets inside a character count that character.
    pub fn of_offset(text: &str, offset: usize) -> Position {
        let offset = offset.min(text.len());
        let mut line = 1;
        let mut line_start = 0;
        for (i, b) in text.as_bytes()[..offset].iter().enumerate() {
            if *b == b'\n' {
                line += 1;
                line_start = i + 1;
            }
        }
        let column = text
            .get(line_start..offset)
            .map(|s| s.chars().count())
            .unwrap_or_else(|| {
                String::from_utf8_lossy(&text.as_bytes()[line_start..offset])
                    .chars()
                    .count()
            })
            + 1;
        Position { line, column }
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "一行目\n二行目のエラー";
        let offset = text.find("エラー").unwrap();
        assert_eq!(Position::of_offset(text, offset), Position { line: 2, column: 5 });
    }

    #[test]
    fn offset_zero_is_line_one_column_one() {
        assert_eq!(Position::of_offset("abc", 0), Position { line: 1, column: 1 });
    }
}
