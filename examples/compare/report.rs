//! The markdown the runner prints and writes: tables, and figures formatted for reading.

use std::fmt::Write;

/// A markdown document, built section by section; each section is also kept on its own, so that
/// the book can put prose between them (`{{#include performance/granularity.md}}`).
#[derive(Default)]
pub struct Report {
    pub markdown: String,
    /// (file stem, markdown) of each section, in order.
    pub sections: Vec<(String, String)>,
}

impl Report {
    /// Starts a section: what follows goes to `<stem>.md` as well as to the whole report.
    pub fn section(&mut self, stem: &str) {
        self.sections.push((stem.to_string(), String::new()));
    }

    /// Adds a markdown block and prints it. A block that starts with a `###` heading keeps the
    /// heading in the whole report only: in the book, the chapter's own heading stands above
    /// each section.
    pub fn text(&mut self, block: &str) {
        println!("{block}\n");
        let _ = write!(self.markdown, "{block}\n\n");
        if let Some((_, section)) = self.sections.last_mut() {
            let body = match block.strip_prefix("### ") {
                Some(headed) => headed.split_once("\n\n").map_or("", |(_, body)| body),
                None => block,
            };
            if !body.is_empty() {
                let _ = write!(section, "{body}\n\n");
            }
        }
    }

    /// Adds a table and prints it.
    pub fn table(&mut self, headers: &[&str], rows: &[Vec<String>]) {
        let mut table = String::new();
        let _ = writeln!(table, "| {} |", headers.join(" | "));
        let _ = writeln!(
            table,
            "|{}",
            headers.iter().enumerate().map(|(i, _)| if i == 0 { "---|" } else { "--:|" }).collect::<String>()
        );
        for row in rows {
            let _ = writeln!(table, "| {} |", row.join(" | "));
        }
        self.text(table.trim_end());
    }
}

/// A duration in seconds, with a unit that keeps three significant digits.
pub fn time(seconds: f64) -> String {
    match seconds {
        s if s >= 1.0 => format!("{s:.2} s"),
        s if s >= 1e-3 => format!("{:.2} ms", s * 1e3),
        s if s >= 1e-6 => format!("{:.2} µs", s * 1e6),
        s => format!("{:.0} ns", s * 1e9),
    }
}

/// A ratio with its quartiles: `1.93x (1.90–1.95)`.
pub fn ratio([low, median, high]: [f64; 3]) -> String {
    format!("{median:.2}x ({low:.2}–{high:.2})")
}

/// A percentage with its quartiles: `99.1 % (98.7–99.4)`.
pub fn percent([low, median, high]: [f64; 3]) -> String {
    format!("{:.1} % ({:.1}–{:.1})", 100.0 * median, 100.0 * low, 100.0 * high)
}
