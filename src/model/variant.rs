//! What may follow a model's name after a colon: a process start method
//! (`process:spawn`) or a switch interval (`gil:2ms`).

use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How a process model starts its children, as in Python's `multiprocessing`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StartMethod {
    /// A copy of the parent (`fork`), Python's default on Linux up to 3.13.
    #[default]
    Fork,
    /// A fresh program (`fork` + `exec` of the paralab binary).
    Spawn,
}

impl StartMethod {
    /// Every start method, in the order help texts list them.
    pub const ALL: [StartMethod; 2] = [StartMethod::Fork, StartMethod::Spawn];

    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            StartMethod::Fork => "fork",
            StartMethod::Spawn => "spawn",
        }
    }
}

impl FromStr for StartMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        StartMethod::ALL
            .into_iter()
            .find(|method| method.name() == s)
            .ok_or_else(|| format!("unknown start method '{s}'; accepted: fork, spawn"))
    }
}

/// CPython's default switch interval, `sys.getswitchinterval()`.
pub(crate) const DEFAULT_SWITCH_INTERVAL: Duration = Duration::from_millis(5);

/// A switch interval in milliseconds, `5ms` or `5`, from 1 µs to 10 s.
pub(crate) fn parse_switch_interval(text: &str) -> Result<Duration, String> {
    let number = text.trim().trim_end_matches("ms");
    match number.parse::<f64>() {
        Ok(ms) if ms.is_finite() && (0.001..=10_000.0).contains(&ms) => {
            Ok(Duration::from_secs_f64(ms / 1e3))
        }
        _ => Err(format!(
            "'{text}' is not a switch interval; give milliseconds from 0.001 to 10000, e.g. 5ms"
        )),
    }
}

/// What a family of models takes after its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VariantKind {
    /// Nothing: `thread`, `async`.
    None,
    /// A start method: `process:fork`, `py-process:spawn`.
    StartMethod,
    /// The gil model's switch interval: `gil:2ms`.
    SwitchInterval,
}

/// The value after the colon, once chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Variant {
    /// The family takes none.
    None,
    /// A start method.
    Start(StartMethod),
    /// A switch interval.
    SwitchInterval(Duration),
}

/// The values a command line leaves open (`process` alone, `gil` alone)
/// are taken from here: `--start-method` and `--switch-interval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct VariantDefaults {
    /// For `process` and `py-process` without `:METHOD`.
    pub start_method: StartMethod,
    /// For `gil` without `:MS`.
    pub switch_interval: Duration,
}

impl Default for VariantDefaults {
    fn default() -> VariantDefaults {
        VariantDefaults {
            start_method: StartMethod::default(),
            switch_interval: DEFAULT_SWITCH_INTERVAL,
        }
    }
}

impl VariantKind {
    /// The variant taken when the name says none.
    pub(crate) fn default_variant(self, defaults: &VariantDefaults) -> Variant {
        match self {
            VariantKind::None => Variant::None,
            VariantKind::StartMethod => Variant::Start(defaults.start_method),
            VariantKind::SwitchInterval => Variant::SwitchInterval(defaults.switch_interval),
        }
    }

    /// Reads the text after the colon; `None` when the family takes nothing there.
    pub(crate) fn parse(self, text: &str) -> Option<Result<Variant, String>> {
        match self {
            VariantKind::None => None,
            VariantKind::StartMethod => Some(text.parse().map(Variant::Start)),
            VariantKind::SwitchInterval => {
                Some(parse_switch_interval(text).map(Variant::SwitchInterval))
            }
        }
    }

    /// The names a family of this kind accepts, for error messages:
    /// `process, process:fork, process:spawn`, `gil, gil:MS (switch interval)`.
    pub(crate) fn spellings(self, family: &str) -> Vec<String> {
        let mut names = vec![family.to_string()];
        match self {
            VariantKind::None => {}
            VariantKind::StartMethod => names.extend(
                StartMethod::ALL
                    .iter()
                    .map(|method| format!("{family}:{}", method.name())),
            ),
            VariantKind::SwitchInterval => names.push(format!("{family}:MS (switch interval)")),
        }
        names
    }
}

impl Variant {
    /// The text after the colon, when the name shows one: a start method
    /// always, a switch interval only when it is not CPython's 5 ms.
    pub(crate) fn suffix(self) -> Option<String> {
        match self {
            Variant::None => None,
            Variant::Start(method) => Some(method.name().to_string()),
            Variant::SwitchInterval(interval) if interval == DEFAULT_SWITCH_INTERVAL => None,
            Variant::SwitchInterval(interval) => {
                Some(format!("{}ms", interval.as_secs_f64() * 1e3))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parse_switch_interval_example() {
        use std::time::Duration;
        assert_eq!(
            crate::model::parse_switch_interval("0.5ms"),
            Ok(Duration::from_micros(500))
        );
        assert!(crate::model::parse_switch_interval("fast").is_err());
    }
}
