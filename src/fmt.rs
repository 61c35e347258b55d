//! Numbers for people: durations, sizes, counts, plurals, percentages,
//! Python's `'{:.6e}'`, and the one text [`Table`] every terminal table is
//! laid out with (`bench`, `report`, `lesson`, `primitives`).
//!
//! Where two outputs print the same quantity differently (a report's wall
//! time, a lesson's duration, a primitive's cost per operation), each has
//! its own clearly named function here, so that no output changes and no
//! other module formats numbers by hand.

// ── durations ───────────────────────────────────────────────────────────

/// A wall time in reports: `1.002 s`, `0.252 s`, `25.3 ms`, `840 µs`.
pub(crate) fn seconds(seconds: f64) -> String {
    if seconds >= 0.1 {
        format!("{seconds:.3} s")
    } else if seconds >= 1e-3 {
        format!("{:.1} ms", seconds * 1e3)
    } else {
        format!("{:.0} µs", seconds * 1e6)
    }
}

/// The unit of a column of times: every time in one column is written in
/// the same unit, so that a glance down the column compares them
/// (`--time-unit`, hyperfine's values, or chosen from the column's times).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TimeUnit {
    /// µs, whole.
    Microsecond,
    /// ms, one decimal.
    Millisecond,
    /// s, three decimals.
    Second,
}

impl TimeUnit {
    /// The unit for a column of `times`: the one its largest figure reads
    /// best in (seconds from 0.1 s, as the notebook prints them,
    /// milliseconds from 0.1 ms), the smaller figures getting the decimals
    /// they need (`0.36 ms` above `3.4 ms`, never `2227 µs`); seconds for
    /// an empty column.
    pub(crate) fn for_times(times: impl IntoIterator<Item = f64>) -> TimeUnit {
        let largest = times
            .into_iter()
            .filter(|t| t.is_finite() && *t > 0.0)
            .fold(0.0, f64::max);
        if largest == 0.0 || largest >= 0.1 {
            TimeUnit::Second
        } else if largest >= 1e-4 {
            TimeUnit::Millisecond
        } else {
            TimeUnit::Microsecond
        }
    }

    /// `unit` when the user chose one, else the unit for `times`.
    pub(crate) fn chosen_or(
        unit: Option<TimeUnit>,
        times: impl IntoIterator<Item = f64>,
    ) -> TimeUnit {
        unit.unwrap_or_else(|| TimeUnit::for_times(times))
    }

    /// How many of this unit make a second, its symbol, and the decimals
    /// it is written with.
    fn scale(self) -> (f64, &'static str, usize) {
        match self {
            TimeUnit::Second => (1.0, "s", 3),
            TimeUnit::Millisecond => (1e3, "ms", 1),
            TimeUnit::Microsecond => (1e6, "µs", 0),
        }
    }

    /// `seconds` in this unit: `0.252 s`, `252.3 ms`, `252310 µs`. A time
    /// much smaller than the unit gets the decimals it needs for two
    /// significant digits (`0.00084 s` under `--time-unit second`), up to
    /// nanoseconds.
    pub(crate) fn format(self, seconds: f64) -> String {
        let (per_second, symbol, decimals) = self.scale();
        let value = seconds * per_second;
        let mut decimals = decimals;
        if value != 0.0 && value.is_finite() {
            let needed = (1.0 - value.abs().log10().floor()).max(0.0) as usize;
            let finest = (per_second.log10().round() as usize).abs_diff(9);
            decimals = decimals.max(needed.min(finest));
        }
        format!("{value:.decimals$} {symbol}")
    }
}

/// A duration in lessons, down to nanoseconds: `1.50 s`, `35.1 ms`,
/// `18.25 µs`, `250 ns`.
pub(crate) fn seconds_fine(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.2} s")
    } else if seconds >= 1e-3 {
        format!("{:.1} ms", seconds * 1e3)
    } else if seconds >= 1e-6 {
        format!("{:.2} µs", seconds * 1e6)
    } else {
        format!("{:.0} ns", seconds * 1e9)
    }
}

/// The cost of one operation, from nanoseconds: `23 ns`, `14.2 µs`,
/// `1.31 ms`.
pub(crate) fn nanos(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

/// A whole number of microseconds, exactly, in the largest unit that
/// suits it: `0.2 s`, `10 ms`, `500 µs`.
pub(crate) fn micros(micros: u64) -> String {
    if micros >= 100_000 {
        format!("{} s", micros as f64 / 1e6)
    } else if micros >= 1_000 {
        format!("{} ms", micros as f64 / 1e3)
    } else {
        format!("{micros} µs")
    }
}

// ── sizes ───────────────────────────────────────────────────────────────

/// A size from KiB: `4.5 KiB` under 10, `12 KiB`, `3.4 MiB`.
pub(crate) fn kib(kib: f64) -> String {
    if kib >= 1024.0 {
        format!("{:.1} MiB", kib / 1024.0)
    } else if kib < 10.0 {
        format!("{kib:.1} KiB")
    } else {
        format!("{kib:.0} KiB")
    }
}

/// A size from KiB that may be negative (a difference), whole KiB below
/// one MiB either way: `-3 KiB`, `700 KiB`, `1.5 MiB`.
pub(crate) fn kib_whole(kib: f64) -> String {
    if kib.abs() >= 1024.0 {
        format!("{:.1} MiB", kib / 1024.0)
    } else {
        format!("{kib:.0} KiB")
    }
}

// ── counts and plurals ──────────────────────────────────────────────────

/// Digits grouped by thousands: `35000000` → `35,000,000`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The plural of an English noun paralab uses: `thread` → `threads`,
/// `process` → `processes`, `CPU` → `CPUs`.
pub(crate) fn plural(noun: &str) -> String {
    if noun.ends_with('s') {
        format!("{noun}es")
    } else {
        format!("{noun}s")
    }
}

/// A count and its noun: `1 worker`, `3 workers`, `2 CPUs`.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {}", plural(noun))
    }
}

// ── child processes ─────────────────────────────────────────────────────

/// How a waited-for child ended, as the words after its name: `exited
/// with code 3`, `was killed by SIGKILL`, `could not be waited for: …`;
/// never Rust's debug text (`Ok(ExitStatus(unix_wait_status(9)))`).
pub(crate) fn child_ended(status: &std::io::Result<std::process::ExitStatus>) -> String {
    use crate::sys::wait::{Exit, signal_name};
    match status {
        Ok(status) => match Exit::from(*status) {
            Exit::Code(code) => format!("exited with code {code}"),
            Exit::Signal(number) => format!("was killed by {}", signal_name(number)),
        },
        Err(error) => format!("could not be waited for: {error}"),
    }
}

/// An OS error as a person reads it: `No such file or directory`, without
/// the ` (os error 2)` Rust adds; other errors as they display.
pub(crate) fn os_error(error: &std::io::Error) -> String {
    let text = error.to_string();
    match error.raw_os_error() {
        Some(code) => text
            .strip_suffix(&format!(" (os error {code})"))
            .unwrap_or(&text)
            .to_string(),
        None => text,
    }
}

// ── percentages ─────────────────────────────────────────────────────────

/// A fraction as a whole percentage: `0.98` → `98%`.
pub(crate) fn percent(fraction: f64) -> String {
    format!("{:.0}%", fraction * 100.0)
}

/// A fraction as a whole percentage in a table of documents (Markdown,
/// HTML), a space before the sign: `0.98` → `98 %`.
pub(crate) fn percent_spaced(fraction: f64) -> String {
    format!("{:.0} %", fraction * 100.0)
}

/// `part` of `whole` with one decimal: `(1, 8)` → `12.5%`; a `whole` of 0
/// counts as 1.
pub(crate) fn percent_of(part: u64, whole: u64) -> String {
    format!("{:.1}%", 100.0 * part as f64 / whole.max(1) as f64)
}

// ── Python's scientific notation ────────────────────────────────────────

/// Formats `value` as Python's `'{:.{precision}e}'.format(value)` does:
/// the notebook's table.
///
/// Rust's `{:.6e}` writes `1.000000e0`; Python writes `1.000000e+00`: a
/// signed exponent of at least two digits. Both round the exact binary
/// value half-to-even, so only the exponent needs rewriting.
pub(crate) fn python_sci(value: f64, precision: usize) -> String {
    if value.is_nan() {
        return "nan".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let rust = format!("{value:.precision$e}");
    let (mantissa, exponent) = rust
        .split_once('e')
        .expect("Rust's {:e} always writes an exponent");
    let exponent: i32 = exponent.parse().expect("Rust's exponent is an integer");
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.abs())
}

// ── tables ──────────────────────────────────────────────────────────────

/// A text table: a title, a header row, rows of cells, columns separated
/// by `│`, each cell padded to its column's width.
///
/// [`Table::render`] is the lessons' layout (a title, numbers on the
/// right); [`Table::render_rows`] lays out the header and rows with the
/// indent and columns the caller chooses (`bench`'s and `primitives`'
/// tables).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Table {
    /// What the table shows, one line (not printed by [`Table::render_rows`]).
    pub title: String,
    /// Column names.
    pub header: Vec<String>,
    /// One row per case measured.
    pub rows: Vec<Vec<String>>,
}

/// Which side of its column a cell keeps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    /// Text: padded on the right.
    Left,
    /// Numbers: padded on the left.
    Right,
}

/// How one column of a [`Table`] is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Column {
    /// Where its cells keep to.
    pub align: Align,
    /// Its width in characters; `None` is as wide as its widest cell (a
    /// longer cell than a set width is written whole, past the width).
    pub width: Option<usize>,
}

impl Column {
    /// Left-aligned, as wide as its widest cell.
    pub(crate) const LEFT: Column = Column {
        align: Align::Left,
        width: None,
    };
    /// Right-aligned, as wide as its widest cell.
    pub(crate) const RIGHT: Column = Column {
        align: Align::Right,
        width: None,
    };

    /// Right-aligned, `width` characters wide.
    pub(crate) const fn right(width: usize) -> Column {
        Column {
            align: Align::Right,
            width: Some(width),
        }
    }
}

impl Table {
    /// An empty table with a title and column names.
    pub(crate) fn new(title: impl Into<String>, header: &[&str]) -> Table {
        Table {
            title: title.into(),
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds one row.
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The lessons' layout: the title indented by two spaces, the header
    /// and rows by four; columns of numbers (every cell after the first
    /// column begins with a digit, `×`, `-` or `+`) right-aligned, the
    /// others left-aligned.
    ///
    /// ```text
    ///   shared counter
    ///     method │  lost
    ///     racy   │ 1,234
    /// ```
    pub(crate) fn render(&self) -> String {
        let columns = self.column_count();
        let layout: Vec<Column> = (0..columns)
            .map(|c| {
                let numeric = c > 0
                    && self.rows.iter().filter_map(|r| r.get(c)).all(|cell| {
                        cell.starts_with(|ch: char| ch.is_ascii_digit() || "×-+".contains(ch))
                    });
                if numeric { Column::RIGHT } else { Column::LEFT }
            })
            .collect();
        format!("  {}\n{}", self.title, self.render_rows("    ", &layout))
    }

    /// The header and the rows, without the title: each line begins with
    /// `indent`, column `c` is laid out as `columns[c]` says
    /// ([`Column::LEFT`] past the end of `columns`), and spaces at the end
    /// of a line are left out.
    pub(crate) fn render_rows(&self, indent: &str, columns: &[Column]) -> String {
        let all: Vec<&Vec<String>> = std::iter::once(&self.header).chain(&self.rows).collect();
        let layout = |c: usize| columns.get(c).copied().unwrap_or(Column::LEFT);
        let widths: Vec<usize> = (0..self.column_count())
            .map(|c| {
                layout(c).width.unwrap_or_else(|| {
                    all.iter()
                        .filter_map(|r| r.get(c))
                        .map(|s| s.chars().count())
                        .max()
                        .unwrap_or(0)
                })
            })
            .collect();
        let mut out = String::new();
        for row in all {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(c, text)| match layout(c).align {
                    Align::Right => format!("{text:>w$}", w = widths[c]),
                    Align::Left => format!("{text:<w$}", w = widths[c]),
                })
                .collect();
            out.push_str(indent);
            out.push_str(cells.join(" │ ").trim_end());
            out.push('\n');
        }
        out
    }

    /// The most cells of any row, the header's included.
    fn column_count(&self) -> usize {
        std::iter::once(&self.header)
            .chain(&self.rows)
            .map(Vec::len)
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_column_of_times_keeps_one_unit() {
        use super::TimeUnit;
        let column = [0.0253, 1.2, 0.252];
        let unit = TimeUnit::for_times(column);
        assert_eq!(unit, TimeUnit::Second);
        let cells: Vec<String> = column.iter().map(|&t| unit.format(t)).collect();
        assert_eq!(cells, ["0.025 s", "1.200 s", "0.252 s"]);
        let fast = [0.00039, 0.0033];
        let unit = TimeUnit::for_times(fast);
        assert_eq!(unit, TimeUnit::Millisecond);
        let cells: Vec<String> = fast.iter().map(|&t| unit.format(t)).collect();
        assert_eq!(cells, ["0.39 ms", "3.3 ms"]);
        assert_eq!(TimeUnit::for_times([0.00008]).format(0.000084), "84 µs");
        // A unit forced larger than the time keeps two significant digits.
        assert_eq!(TimeUnit::Second.format(0.00084), "0.00084 s");
        assert_eq!(TimeUnit::Millisecond.format(0.00084), "0.84 ms");
        assert_eq!(TimeUnit::Microsecond.format(2.5), "2500000 µs");
        assert_eq!(TimeUnit::for_times([]), TimeUnit::Second);
    }

    use super::*;

    #[test]
    fn os_errors_read_without_rust_s_suffix() {
        let missing = std::io::Error::from_raw_os_error(2);
        assert_eq!(os_error(&missing), "No such file or directory");
        assert_eq!(os_error(&std::io::Error::other("odd")), "odd");
    }

    #[test]
    fn a_child_ending_is_told_in_words() {
        use std::os::unix::process::ExitStatusExt;
        use std::process::ExitStatus;
        assert_eq!(
            child_ended(&Ok(ExitStatus::from_raw(3 << 8))),
            "exited with code 3"
        );
        assert_eq!(
            child_ended(&Ok(ExitStatus::from_raw(9))),
            "was killed by SIGKILL"
        );
        let lost = child_ended(&Err(std::io::Error::from_raw_os_error(10)));
        assert!(
            lost.starts_with("could not be waited for: No child processes"),
            "{lost}"
        );
        for text in [child_ended(&Ok(ExitStatus::from_raw(9))), lost] {
            assert!(
                !text.contains("ExitStatus") && !text.contains("Os {"),
                "{text}"
            );
        }
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(seconds(1.0024), "1.002 s");
        assert_eq!(seconds(0.0253), "25.3 ms");
        assert_eq!(seconds(0.00084), "840 µs");
        assert_eq!(seconds_fine(1.5), "1.50 s");
        assert_eq!(seconds_fine(0.0351), "35.1 ms");
        assert_eq!(seconds_fine(18.25e-6), "18.25 µs");
        assert_eq!(seconds_fine(250e-9), "250 ns");
        assert_eq!(nanos(23.0), "23 ns");
        assert_eq!(nanos(14_200.0), "14.2 µs");
        assert_eq!(nanos(1_310_000.0), "1.31 ms");
        assert_eq!(micros(200_000), "0.2 s");
        assert_eq!(micros(10_000), "10 ms");
        assert_eq!(micros(500), "500 µs");
    }

    #[test]
    fn sizes_counts_and_percentages_read_naturally() {
        assert_eq!(kib(4.5), "4.5 KiB");
        assert_eq!(kib(12.0), "12 KiB");
        assert_eq!(kib(3481.6), "3.4 MiB");
        assert_eq!(kib_whole(-3.0), "-3 KiB");
        assert_eq!(kib_whole(-2048.0), "-2.0 MiB");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(35_000_000), "35,000,000");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
        assert_eq!(count(1, "worker"), "1 worker");
        assert_eq!(count(3, "worker"), "3 workers");
        assert_eq!(count(2, "CPU"), "2 CPUs");
        assert_eq!(plural("process"), "processes");
        assert_eq!(plural("thread"), "threads");
        assert_eq!(percent(0.984), "98%");
        assert_eq!(percent_spaced(0.984), "98 %");
        assert_eq!(percent_of(1, 8), "12.5%");
        assert_eq!(percent_of(0, 0), "0.0%");
    }

    /// Expected strings produced by CPython 3.11: `'{:.6e}'.format(x)`.
    #[test]
    fn python_sci_matches_python_on_edge_cases() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.000000e+00"),
            (-0.0, "-0.000000e+00"),
            (1.0, "1.000000e+00"),
            (3.0, "3.000000e+00"),
            (-2.5, "-2.500000e+00"),
            (0.04043388, "4.043388e-02"),
            (9.9999995, "9.999999e+00"),
            (9.99999951, "1.000000e+01"),
            (999999.95, "9.999999e+05"),
            (0.00012345675, "1.234567e-04"),
            (1.5e-300, "1.500000e-300"),
            (5e-324, "4.940656e-324"),
            (1.7976931348623157e308, "1.797693e+308"),
            (1e100, "1.000000e+100"),
            (123456789.0, "1.234568e+08"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ];
        for &(value, python) in cases {
            assert_eq!(python_sci(value, 6), python, "value {value:e}");
        }
        assert_eq!(python_sci(1234.5, 2), "1.23e+03");
        assert_eq!(python_sci(1234.5, 0), "1e+03");
    }

    #[test]
    fn lesson_tables_align_their_columns() {
        let mut table = Table::new("t", &["method", "lost"]);
        table.row(vec!["racy".into(), "1,234".into()]);
        table.row(vec!["mutex".into(), "0".into()]);
        assert_eq!(
            table.render(),
            "  t\n    method │  lost\n    racy   │ 1,234\n    mutex  │     0\n"
        );
    }

    #[test]
    fn set_widths_pad_and_let_longer_cells_through() {
        let mut table = Table::new("", &["name", "n"]);
        table.row(vec!["a".into(), "12".into()]);
        table.row(vec!["bc".into(), "12345".into()]);
        let columns = [Column::LEFT, Column::right(4)];
        assert_eq!(
            table.render_rows(" ", &columns),
            " name │    n\n a    │   12\n bc   │ 12345\n"
        );
    }

    #[test]
    fn python_sci_example() {
        use crate::fmt::python_sci;
        assert_eq!(python_sci(1.0, 6), "1.000000e+00");
        assert_eq!(python_sci(0.04043388, 6), "4.043388e-02");
        assert_eq!(python_sci(9.9999999, 6), "1.000000e+01");
        assert_eq!(python_sci(f64::NAN, 6), "nan");
    }
}
