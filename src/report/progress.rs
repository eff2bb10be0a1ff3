//! The terminal display: one overall bar (done/total, elapsed, ETA) under one
//! line per running task (address and elapsed time). Finished tasks scroll
//! above as single lines. indicatif redraws at a limited rate in place, so
//! nothing flickers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::eta::Eta;
use super::human::Screen;
use crate::plan::TaskId;

const OVERALL: &str = "[{bar:30}] {pos}/{len} tasks  {elapsed} elapsed  ETA {eta}";
/// With durations from the history, the ETA is theirs (`super::eta`).
const OVERALL_KNOWN: &str = "[{bar:30}] {pos}/{len} tasks  {elapsed} elapsed  ETA {known_eta}";
const RUNNING: &str = "  {spinner} {prefix} {elapsed}";

pub(crate) struct Progress {
    multi: MultiProgress,
    pause: Pause,
    overall: ProgressBar,
    running: HashMap<TaskId, ProgressBar>,
    /// The terminal's settings before the display stopped it echoing `^C`.
    echo: Option<rustix::termios::Termios>,
    /// The ETA from past builds' durations, when there are any.
    eta: Option<Arc<Mutex<Eta>>>,
}

fn lock(eta: &Mutex<Eta>) -> MutexGuard<'_, Eta> {
    eta.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Stops the terminal echoing control characters (`^C`) while the display
/// is drawn: the echo moves the cursor under indicatif, which then leaves a
/// stale line behind. Returns the settings to restore.
fn quiet_echo() -> Option<rustix::termios::Termios> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let stderr = std::io::stderr();
    let before = tcgetattr(&stderr).ok()?;
    let mut quiet = before.clone();
    quiet.local_modes.remove(LocalModes::ECHOCTL);
    tcsetattr(&stderr, OptionalActions::Now, &quiet).ok()?;
    Some(before)
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(before) = self.echo.take() {
            let stderr = std::io::stderr();
            let _ =
                rustix::termios::tcsetattr(&stderr, rustix::termios::OptionalActions::Now, &before);
        }
    }
}

impl Progress {
    /// Draws on the target `target` makes (called again after each pause):
    /// stderr normally; any terminal-like target when `--progress always`
    /// insists on a display.
    pub(crate) fn new(target: impl Fn() -> ProgressDrawTarget + Send + Sync + 'static) -> Self {
        let multi = MultiProgress::with_draw_target(target());
        let overall = multi.add(ProgressBar::new(0).with_style(style(OVERALL)));
        Self {
            echo: (!multi.is_hidden()).then(quiet_echo).flatten(),
            pause: Pause {
                multi: multi.clone(),
                target: Arc::new(target),
                state: Arc::default(),
            },
            multi,
            overall,
            running: HashMap::new(),
            eta: None,
        }
    }

    /// Estimates the time left from past builds' task durations instead of
    /// the rate of tasks finished so far.
    #[must_use]
    pub(crate) fn with_eta(mut self, eta: Eta) -> Self {
        let eta = Arc::new(Mutex::new(eta));
        let shared = Arc::clone(&eta);
        let known = move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&super::eta::text(lock(&shared).left(Instant::now())));
        };
        self.overall
            .set_style(style(OVERALL_KNOWN).with_key("known_eta", known));
        self.eta = Some(eta);
        self
    }

    /// A handle for pausing the display (to ask a question on stderr).
    pub(crate) fn pause(&self) -> Pause {
        self.pause.clone()
    }
}

/// Takes the display off the terminal while a question is open, without
/// holding indicatif's lock: the build goes on underneath, its finished
/// lines held back and printed when the question closes.
#[derive(Clone)]
pub(crate) struct Pause {
    multi: MultiProgress,
    target: Arc<dyn Fn() -> ProgressDrawTarget + Send + Sync>,
    state: Arc<Mutex<Paused>>,
}

#[derive(Default)]
struct Paused {
    /// Lines printed while paused, in order; `None` when not paused.
    held: Option<Vec<String>>,
    /// The display was stopped for good (interrupt): never drawn again.
    stopped: bool,
}

impl Pause {
    fn state(&self) -> MutexGuard<'_, Paused> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` with the display hidden, then draws it again.
    pub(crate) fn during<T>(&self, f: impl FnOnce() -> T) -> T {
        self.hide();
        let out = f();
        self.show();
        out
    }

    /// Takes the display off the screen; lines are held from now on.
    fn hide(&self) {
        let mut state = self.state();
        if state.stopped {
            return;
        }
        state.held = Some(Vec::new());
        let _ = self.multi.clear();
        self.multi.set_draw_target(ProgressDrawTarget::hidden());
    }

    /// Prints the lines held since [`Pause::hide`] and draws the display
    /// again (unless it was stopped meanwhile).
    fn show(&self) {
        let mut state = self.state();
        for line in state.held.take().unwrap_or_default() {
            say!("{line}");
        }
        if !state.stopped {
            self.multi.set_draw_target((self.target)());
        }
    }

    /// The run is over or interrupted: prints what was held back and never
    /// draws again, even if a question is still open.
    fn stop(&self) {
        let mut state = self.state();
        state.stopped = true;
        for line in state.held.take().unwrap_or_default() {
            say!("{line}");
        }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("the templates are constant and valid")
        .progress_chars("=> ")
}

impl Screen for Progress {
    fn line(&mut self, text: &str) {
        // Held under the pause's lock throughout, so no line slips onto a
        // question being put.
        let mut state = self.pause.state();
        if let Some(held) = state.held.as_mut() {
            held.push(text.to_owned());
            return;
        }
        // `println` prints nothing while the display is hidden, so fall back
        // to writing around it.
        if self.multi.is_hidden() {
            self.multi.suspend(|| say!("{text}"));
        } else {
            let _ = self.multi.println(text);
        }
    }

    fn run_started(&mut self, total: usize) {
        self.overall.set_length(total as u64);
        self.overall.enable_steady_tick(Duration::from_millis(250));
    }

    fn task_started(&mut self, task: TaskId, address: &str, _done: usize, _total: usize) {
        let bar = self
            .multi
            .insert_before(&self.overall, ProgressBar::new_spinner());
        bar.set_style(style(RUNNING));
        bar.set_prefix(address.to_owned());
        // Each line ticks itself so its elapsed time moves while the task runs.
        bar.enable_steady_tick(Duration::from_millis(250));
        self.running.insert(task, bar);
        if let Some(eta) = &self.eta {
            lock(eta).started(task, Instant::now());
        }
    }

    fn task_ended(&mut self, task: TaskId) {
        if let Some(bar) = self.running.remove(&task) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        if let Some(eta) = &self.eta {
            lock(eta).ended(task);
        }
        self.overall.inc(1);
    }

    fn task_skipped(&mut self, task: TaskId) {
        if let Some(eta) = &self.eta {
            lock(eta).skipped(task);
        }
        self.overall.inc(1);
    }

    fn hand_over(&mut self) {
        self.pause.hide();
        // The program gets the terminal as the user set it up.
        if let Some(before) = &self.echo {
            let stderr = std::io::stderr();
            let _ =
                rustix::termios::tcsetattr(&stderr, rustix::termios::OptionalActions::Now, before);
        }
    }

    fn take_back(&mut self) {
        if self.echo.is_some() {
            // As before the hand-over; it is what `drop` restores.
            let _ = quiet_echo();
        }
        self.pause.show();
    }

    fn interrupted(&mut self) {
        // Stop drawing altogether: the bars of stopping tasks tell nothing,
        // and lines printed from now on go straight to stderr.
        self.pause.stop();
        let _ = self.multi.clear();
        for (_, bar) in self.running.drain() {
            bar.disable_steady_tick();
            self.multi.remove(&bar);
        }
        self.overall.disable_steady_tick();
        self.multi.remove(&self.overall);
        let _ = self.multi.clear();
        self.multi.set_draw_target(ProgressDrawTarget::hidden());
    }

    fn run_finished(&mut self) {
        self.pause.stop();
        for (_, bar) in self.running.drain() {
            bar.finish_and_clear();
        }
        self.overall.finish_and_clear();
    }
}
