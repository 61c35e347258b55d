//! Reading `/proc`: who is whose child (`/proc/PID/stat`), and the
//! `Name:  value kB` lines of `/proc/PID/status` and `smaps_rollup`.
//!
//! Every read and listing of `/proc` made through [`read`] and [`pids`] is
//! noted, in tests, on the calling thread ([`reads_on_this_thread`]), so a
//! test can tell what a sampler opened while a run was timed.

use std::io;

#[cfg(test)]
thread_local! {
    static READS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Notes, in tests, that this thread opened `path`.
fn note(path: &str) {
    #[cfg(test)]
    READS.with(|reads| reads.borrow_mut().push(path.to_string()));
    #[cfg(not(test))]
    let _ = path;
}

/// The `/proc` paths this thread has read or listed since the last call
/// (tests only).
#[cfg(test)]
pub(crate) fn reads_on_this_thread() -> Vec<String> {
    READS.with(|reads| std::mem::take(&mut *reads.borrow_mut()))
}

/// The text of one `/proc` file.
pub(crate) fn read(path: &str) -> io::Result<String> {
    note(path);
    std::fs::read_to_string(path)
}

/// What paralab reads of `/proc/PID/stat`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stat {
    /// The command name (`comm`), without its parentheses.
    pub command: String,
    /// The state letter: `R` running, `S` sleeping, `Z` zombie, …
    pub state: char,
    /// The parent's pid.
    pub parent: u32,
}

impl Stat {
    /// Reads `/proc/PID/stat`; `None` if the process is gone (or the file
    /// does not parse).
    pub(crate) fn of(pid: u32) -> Option<Stat> {
        Stat::parse(&read(&format!("/proc/{pid}/stat")).ok()?)
    }

    /// Parses the text of a `/proc/PID/stat`: `PID (COMMAND) STATE PPID …`.
    /// The command name may itself hold spaces and parentheses, so it ends
    /// at the last `)`.
    pub(crate) fn parse(text: &str) -> Option<Stat> {
        let open = text.find('(')?;
        let close = text.rfind(')')?;
        let command = text.get(open + 1..close)?.to_string();
        let mut after = text[close + 1..].split_whitespace();
        let state = after.next()?.chars().next()?;
        let parent = after.next()?.parse().ok()?;
        Some(Stat {
            command,
            state,
            parent,
        })
    }
}

/// The pids of every process now in `/proc`.
pub(crate) fn pids() -> Vec<u32> {
    note("/proc");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .collect()
}

/// The parent pid of `pid`, if it is alive.
pub(crate) fn parent_of(pid: u32) -> Option<u32> {
    Stat::of(pid).map(|stat| stat.parent)
}

/// The live children of process `parent`, found by scanning `/proc/*/stat`
/// (the kernel's `/proc/PID/task/TID/children` is not built everywhere).
pub(crate) fn children_of(parent: u32) -> Vec<u32> {
    pids()
        .into_iter()
        .filter(|&pid| parent_of(pid) == Some(parent))
        .collect()
}

/// The number after `name` on its line, e.g. `Pss:   697 kB` → 697, or
/// `Uid:  1000 1000 1000 1000` → 1000 (the first one).
pub(crate) fn field(text: &str, name: &str) -> io::Result<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("no '{name}' field in /proc"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_name_with_spaces_and_parentheses_is_read_whole() {
        let stat = Stat::parse("1234 (my (odd) prog) R 99 1234 1234 0 -1 4194304").unwrap();
        assert_eq!(stat.command, "my (odd) prog");
        assert_eq!(stat.state, 'R');
        assert_eq!(stat.parent, 99);
        assert_eq!(Stat::parse("1234 (x) R").map(|s| s.parent), None);
        assert_eq!(Stat::parse("garbage"), None);
    }

    #[test]
    fn this_process_is_its_parents_child() {
        let me = std::process::id();
        let stat = Stat::of(me).unwrap();
        assert_eq!(Some(stat.parent), Some(std::os::unix::process::parent_id()));
        assert!(children_of(stat.parent).contains(&me));
        assert!(pids().contains(&me));
    }

    #[test]
    fn fields_are_read_by_name() {
        assert_eq!(field("Rss:   10 kB\nPss:  7 kB\n", "Pss:").unwrap(), 7);
        assert_eq!(
            field("Uid:\t1000\t1001\t1002\t1003\n", "Uid:").unwrap(),
            1000
        );
        assert!(field("Rss: 10 kB", "Pss:").is_err());
    }

    #[test]
    fn parse_example() {
        use crate::sys::procfs::Stat;
        let stat = Stat::parse("42 (a) (b c) S 7 42 42 0 -1").unwrap();
        assert_eq!(
            (stat.command.as_str(), stat.state, stat.parent),
            ("a) (b c", 'S', 7)
        );
    }
}
