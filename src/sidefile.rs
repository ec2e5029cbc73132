//! Small CSV side inputs (planned windows, labels): opening (regular files
//! of at most [`MAX_BYTES`] only), header lookup and errors that name the
//! file, line and column.

use std::path::Path;

/// Largest planned-windows or labels file read, in bytes (256 MiB: a
/// national estate's planned windows for years are a few MB; a bigger file
/// is the wrong file, or a device).
pub const MAX_BYTES: u64 = 256 << 20;

/// A side file that cannot be used.
#[derive(Debug)]
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

impl std::fmt::Display for SideFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column.as_str()) {
            // The file could not be read at all: the reason names it.
            (0, _) => write!(f, "{}", self.reason),
            (line, "") => write!(f, "{}, line {line}: {}", self.file, self.reason),
            (line, column) => write!(
                f,
                "{}, line {line}, column `{column}`: {}",
                self.file, self.reason
            ),
        }
    }
}

impl std::error::Error for SideFileError {}

/// The header of an open side file, and where it came from.
pub struct SideFile {
    /// Path as given, for messages.
    pub file: String,
    /// Column names (a UTF-8 BOM is removed).
    pub headers: Vec<String>,
}

/// The content of a side file, read whole.
pub type Bytes = std::io::Cursor<Vec<u8>>;

impl SideFile {
    /// Reads `path` (a regular file of at most [`MAX_BYTES`]; `what` names
    /// the kind of file in messages, e.g. `labels file`) and its header; returns the reader
    /// positioned on the first record.
    pub fn open(path: &Path, what: &str) -> Result<(SideFile, csv::Reader<Bytes>), SideFileError> {
        let file = path.display().to_string();
        let bytes =
            crate::ingest::read_small(path, MAX_BYTES, what).map_err(|reason| SideFileError {
                file: file.clone(),
                line: 0,
                column: String::new(),
                reason: format!("cannot read {what} {file}: {reason}"),
            })?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(std::io::Cursor::new(bytes));
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
