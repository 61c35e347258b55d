//! Which CPython a Python model's runs were made in, when a sweep runs
//! several (`--python-exe python3.11,python3.13t`): part of the model's
//! identity, so that each interpreter is its own column in every view and
//! its own object in every file.
//!
//! A [`Model`](crate::Model) is `Copy` and compared and hashed everywhere
//! (tables, grids, verdicts), so it holds this as a reference to one shared,
//! never-freed description: a sweep names a handful of interpreters, and
//! the same description is handed out again for the same interpreter.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// What identifies an interpreter in results: its version, its GIL state
/// as the interpreter itself reported it, its program, and the label views
/// show.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct InterpreterInfo {
    /// `3.13.5`.
    pub(crate) version: String,
    /// Whether its threads share a global lock (the driver's word, see
    /// [`super::Python::gil_enabled`]).
    pub(crate) gil_enabled: bool,
    /// Its own program, `sys.executable`.
    pub(crate) executable: String,
    /// What views show: `CPython 3.13.5, no GIL`.
    pub(crate) label: String,
}

/// One interpreter of a sweep, as a Python model carries it.
#[derive(Clone, Copy)]
pub(crate) struct Interpreter(&'static InterpreterInfo);

/// Every description handed out, so that each is leaked once.
static KNOWN: Mutex<Vec<&'static InterpreterInfo>> = Mutex::new(Vec::new());

impl Interpreter {
    /// The interpreter described by `info`.
    pub(crate) fn new(info: InterpreterInfo) -> Interpreter {
        let mut known = KNOWN
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(same) = known.iter().find(|k| ***k == info) {
            return Interpreter(same);
        }
        let leaked: &'static InterpreterInfo = Box::leak(Box::new(info));
        known.push(leaked);
        Interpreter(leaked)
    }

    /// The label of a CPython of `version` with its GIL on or off:
    /// `CPython 3.13.5, no GIL`, `CPython 3.11.2, with GIL`.
    pub(crate) fn label_of(version: &str, gil_enabled: bool) -> String {
        let gil = if gil_enabled { "with GIL" } else { "no GIL" };
        format!("CPython {version}, {gil}")
    }

    /// Its description.
    pub(crate) fn info(&self) -> &'static InterpreterInfo {
        self.0
    }

    /// `CPython 3.13.5, no GIL`.
    pub(crate) fn label(&self) -> &'static str {
        &self.0.label
    }

    /// Whether its threads share a global lock.
    pub(crate) fn gil_enabled(&self) -> bool {
        self.0.gil_enabled
    }

    /// `3.13.5`.
    pub(crate) fn version(&self) -> &'static str {
        &self.0.version
    }
}

impl PartialEq for Interpreter {
    fn eq(&self, other: &Interpreter) -> bool {
        self.0 == other.0
    }
}

impl Eq for Interpreter {}

impl Hash for Interpreter {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for Interpreter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Interpreter({} at {})", self.0.label, self.0.executable)
    }
}

impl fmt::Display for Interpreter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.label)
    }
}

impl Serialize for Interpreter {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Interpreter {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Interpreter, D::Error> {
        InterpreterInfo::deserialize(deserializer).map(Interpreter::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(version: &str, gil: bool, exe: &str) -> InterpreterInfo {
        InterpreterInfo {
            version: version.into(),
            gil_enabled: gil,
            executable: exe.into(),
            label: Interpreter::label_of(version, gil),
        }
    }

    #[test]
    fn the_same_interpreter_is_one_and_others_differ() {
        let a = Interpreter::new(info("3.13.5", false, "/opt/py/bin/python3.13t"));
        let b = Interpreter::new(info("3.13.5", false, "/opt/py/bin/python3.13t"));
        let c = Interpreter::new(info("3.11.2", true, "/usr/bin/python3.11"));
        assert_eq!(a, b);
        assert!(std::ptr::eq(a.info(), b.info()));
        assert_ne!(a, c);
        assert_eq!(a.label(), "CPython 3.13.5, no GIL");
        assert_eq!(c.label(), "CPython 3.11.2, with GIL");
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Interpreter>(&json).unwrap(), a);
    }
}
