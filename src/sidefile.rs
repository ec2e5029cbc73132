//! Small CSV side inputs (planned windows, labels): opening, header lookup
//! and errors that name the file, line and column.

use std::path::Path;

/// A side file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{file}, line {line}, column `{column}`: {reason}")]
pub struct SideFileError {
    /// The file.
    pub file: String,
    /// Line (header = 1; 0 when the file could not be opened).
    pub line: u64,
    /// Column at fault (empty when the whole line is).
    pub column: String,
    /// What is wrong.
    pub reason: String,
}

/// The header of an open side file, and where it came from.
pub struct SideFile {
    /// Path as given, for messages.
    pub file: String,
    /// Column names (a UTF-8 BOM is removed).
    pub headers: Vec<String>,
}

impl SideFile {
    /// Opens `path` and reads its header; returns the reader positioned on
    /// the first record.
    pub fn open(path: &Path) -> Result<(SideFile, csv::Reader<std::fs::File>), SideFileError> {
        let file = path.display().to_string();
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| SideFileError {
                file: file.clone(),
                line: 0,
                column: String::new(),
                reason: e.to_string(),
            })?;
        let headers = reader
            .headers()
            .map_err(|e| SideFileError {
                file: file.clone(),
                line: 1,
                column: String::new(),
                reason: e.to_string(),
            })?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        Ok((SideFile { file, headers }, reader))
    }

    /// An error at `line`, `column` of this file.
    pub fn error(&self, line: u64, column: &str, reason: String) -> SideFileError {
        SideFileError {
            file: self.file.clone(),
            line,
            column: column.to_string(),
            reason,
        }
    }

    /// Position of an optional column.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// Positions of required columns, or an error naming the first missing one.
    pub fn require<'a>(
        &self,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<usize>, SideFileError> {
        names
            .into_iter()
            .map(|n| {
                self.column(n).ok_or_else(|| {
                    self.error(
                        1,
                        n,
                        format!(
                            "required column is missing (columns found: {})",
                            self.headers.join(", ")
                        ),
                    )
                })
            })
            .collect()
    }
}
