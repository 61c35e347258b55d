//! The progress bar on stderr, an observer of the running experiment: what
//! is running, how far the plan has got, and how long the rest should take.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::experiment::{Observer, Plan, RunKind};
use crate::fmt::count;
use crate::model::Model;
use crate::workload::Workload;

/// An indicatif bar on stderr, advanced once per run (warm-ups included).
///
/// It draws nothing when hidden, so callers may always attach it. The
/// bar is cleared when dropped, before anything is printed on stdout, so
/// it never mixes with the results.
pub(crate) struct Progress {
    bar: ProgressBar,
    running: bool,
}

impl Progress {
    /// A bar on stderr, shown only when `show` is true and stderr is a
    /// terminal; coloured unless `NO_COLOR` is set (see no-color.org).
    pub(crate) fn stderr(show: bool) -> Progress {
        let visible = show && std::io::stderr().is_terminal();
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let template = if colour {
            "{spinner:.green} [{bar:20.cyan/blue}] {pos}/{len} {msg} · ETA {eta:.bold}"
        } else {
            "{spinner} [{bar:20}] {pos}/{len} {msg} · ETA {eta}"
        };
        let style = ProgressStyle::with_template(template)
            .expect("the template is valid")
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(0), target).with_style(style);
        Progress {
            bar,
            running: false,
        }
    }
}

/// `cpu · thread · 3 workers · run 2/5`, `… · warm-up 1/1`.
pub(crate) fn describe(workload: &Workload, model: Model, workers: usize, kind: RunKind) -> String {
    let run = match kind {
        RunKind::Warmup(k, n) => format!("warm-up {k}/{n}"),
        RunKind::Timed(k, n) if k <= n => format!("run {k}/{n}"),
        // Adaptive runs may go beyond the plan's count.
        RunKind::Timed(k, _) => format!("run {k}"),
    };
    format!(
        "{} · {model} · {} · {run}",
        workload.kind(),
        count(workers, "worker")
    )
}

impl Observer for Progress {
    fn plan_started(&mut self, plan: &Plan) {
        self.bar.set_length(plan.total_runs() as u64);
        self.bar.enable_steady_tick(Duration::from_millis(120));
    }

    fn run_started(&mut self, workload: &Workload, model: Model, workers: usize, kind: RunKind) {
        if self.running {
            self.bar.inc(1);
        }
        self.running = true;
        self.bar
            .set_message(describe(workload, model, workers, kind));
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_what_is_running() {
        let cpu = Workload::Cpu { iters: 1 };
        assert_eq!(
            describe(&cpu, Model::THREAD, 3, RunKind::Timed(2, 5)),
            "cpu · thread · 3 workers · run 2/5"
        );
        assert_eq!(
            describe(&cpu, Model::THREAD, 1, RunKind::Warmup(1, 1)),
            "cpu · thread · 1 worker · warm-up 1/1"
        );
    }

    #[test]
    fn hidden_when_asked() {
        assert!(Progress::stderr(false).bar.is_hidden());
    }
}
