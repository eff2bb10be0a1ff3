//! The coordinator of a run: the single owner of run state.
//!
//! It keeps, for every task, how many of its needs are unfinished and where
//! it stands (waiting, ready, running, done); starts ready tasks by priority
//! within the `-j` limit and pool depths; feeds executor results to each
//! running task's [`TaskRun`]; and reports every step as an [`Event`].
//! Nothing in its loop can fail: executor errors arrive as [`Exit`] values,
//! so a failure never abandons running work — after one, no new task starts
//! (unless `--keep-going`) and the loop drains what is running.
//!
//! Interrupts are read from the shared [`Interrupts`] counter at every turn
//! of the loop (an executor blocked on its channel is woken with an
//! [`Update::Wake`] to look): the loop stops starting tasks, asks the
//! executor to stop the running ones, and drains them, so every record (and
//! the state written from the events) is complete when the run returns.
//!
//! Up-to-date checks are asked through the [`Freshness`] seam as each task
//! becomes ready (`up_to_date.rs`).
//!
//! With a jobserver (some task says `jobserver=#true`), every running task
//! beyond the first holds one of its tokens, taken from the executor before
//! it starts and given back when it ends: a nested `make` that takes tokens
//! for its own jobs leaves fewer for orchestra's tasks, so together they
//! stay within `-j`.
//!
//! An interactive task (`interactive=#true`) runs alone, as if `-j1`: once
//! it is ready and next, nothing more starts until what runs has finished
//! and no question is open; then it starts, and nothing else starts until
//! it has finished. It is the one task that may use the terminal.

use std::collections::HashMap;
use std::time::Instant;

use super::ask::Asker;
use super::attempt::{Action, Notice, TaskRun};
use super::decide::{Decide, Decision};
use super::event::{Event, Failure, Reporter, SkipReason, Status, Step, Summary, TaskRecord};
use super::executor::{Completion, Executor, Update};
use super::interrupt::Interrupts;
use super::job::JobBuilder;
use super::priority::{ReadyQueue, longest_path_to_end};
use super::{Options, OutputCache, Seams};
use crate::freshness::Freshness;
use crate::plan::{Dependents, Plan, TaskId};

mod up_to_date;

/// A task's state in the run: small, because a no-op build holds one per
/// task and nearly all of them end up to date, which needs no record.
#[derive(Debug)]
enum State {
    Waiting,
    Running(Box<Running>),
    UpToDate,
    Done(Box<TaskRecord>),
}

#[derive(Debug)]
struct Running {
    run: TaskRun,
    started: Instant,
    /// The step whose job is in flight.
    current: Option<Step>,
    jobs_started: u32,
    /// Some command of it wrote to its log (which exists only then).
    logged: bool,
}

/// Runs `plan` to the end and returns what happened to every task: the
/// one entry of the engine, for builds, dry runs and predictions alike.
pub(crate) fn run<'a>(plan: &'a Plan, options: &'a Options, seams: Seams<'a>) -> Summary {
    let started = Instant::now();
    let mut scheduler = Scheduler::new(plan, options, seams);
    scheduler.main_loop();
    let interrupted = scheduler.interrupts > 0;
    let saved = scheduler.freshness.saved();
    let fingerprints = scheduler.freshness.ran_with();
    let Scheduler {
        reporter, state, ..
    } = scheduler;
    let summary = Summary {
        tasks: records(plan, state),
        duration: started.elapsed(),
        interrupted,
        saved,
        fingerprints,
    };
    reporter.event(plan, &Event::RunFinished { summary: &summary });
    summary
}

struct Scheduler<'a> {
    plan: &'a Plan,
    options: &'a Options,
    executor: &'a mut dyn Executor,
    decide: &'a mut dyn Decide,
    asker: &'a mut dyn Asker,
    reporter: &'a mut dyn Reporter,
    jobs: JobBuilder<'a>,
    /// Tasks a person approved (their question was answered yes).
    approved: Vec<bool>,
    /// Questions put and not yet answered.
    asking: usize,
    /// Unfinished needs per task.
    unfinished: Vec<usize>,
    dependents: Dependents,
    state: Vec<State>,
    ready: ReadyQueue,
    running: usize,
    /// Pool name → (running, depth).
    pools: HashMap<&'a str, (u32, u32)>,
    stopping: bool,
    /// An interactive task, ready, waiting for the build to be quiet.
    held: Option<TaskId>,
    /// An interactive task is running: nothing else starts.
    alone: bool,
    /// Interrupts acted on; the first stops gently, the second kills.
    interrupts: u32,
    signals: &'a Interrupts,
    pub(super) freshness: &'a mut dyn Freshness,
    pub(super) cache: &'a mut dyn OutputCache,
    /// Tasks already found out of date: a task put back because its pool
    /// was full is neither fingerprinted nor explained twice.
    out_of_date: Vec<bool>,
    /// Out-of-date tasks the output cache may restore (not after their
    /// gate failed).
    restorable: Vec<bool>,
    /// For a pool member: the member of the same pool and wave declared
    /// just before it. A member starts only after that one has, so a pool
    /// hands its slots out in declaration order on every run, however the
    /// members' needs happen to finish.
    pool_previous: Vec<Option<TaskId>>,
    /// Some task uses the jobserver: tasks beyond the first hold tokens.
    serving: bool,
    /// Jobserver tokens held for running tasks: `running - 1` at most.
    tokens: usize,
}

impl<'a> Scheduler<'a> {
    fn new(plan: &'a Plan, options: &'a Options, seams: Seams<'a>) -> Self {
        let Seams {
            executor,
            decide,
            asker,
            reporter,
            freshness,
            cache,
            interrupts,
        } = seams;
        let dependents = Dependents::of(plan);
        let mut ready = ReadyQueue::new(longest_path_to_end(plan, &dependents));
        for task in plan.tasks.iter().filter(|t| t.needs.is_empty()) {
            ready.push(task.id);
        }
        Self {
            plan,
            options,
            executor,
            decide,
            asker,
            reporter,
            jobs: JobBuilder::new(plan, options),
            approved: vec![false; plan.tasks.len()],
            asking: 0,
            unfinished: plan.tasks.iter().map(|t| t.needs.len()).collect(),
            dependents,
            state: plan.tasks.iter().map(|_| State::Waiting).collect(),
            ready,
            running: 0,
            pools: plan
                .pools
                .iter()
                .map(|(name, depth)| (name.as_str(), (0, *depth)))
                .collect(),
            stopping: false,
            held: None,
            alone: false,
            interrupts: 0,
            signals: interrupts,
            freshness,
            cache,
            out_of_date: vec![false; plan.tasks.len()],
            restorable: vec![false; plan.tasks.len()],
            pool_previous: pool_previous(plan),
            serving: plan.tasks.iter().any(|t| t.jobserver.is_some()),
            tokens: 0,
        }
    }

    /// Start what may start, wait for news, repeat until nothing runs.
    fn main_loop(&mut self) {
        let event = Event::RunStarted {
            tasks: self.plan.tasks.len(),
            jobs: self.options.jobs,
        };
        self.reporter.event(self.plan, &event);
        loop {
            self.take_interrupts();
            let answers = self.asker.answers();
            self.take_answers(answers);
            self.start_ready();
            self.take_interrupts();
            if self.running == 0 {
                // Only a person can move things on: wait for them.
                if self.asking > 0 && !self.stopping {
                    match self.asker.wait() {
                        Some(answer) => {
                            self.take_answers(vec![answer]);
                            continue;
                        }
                        None => break,
                    }
                }
                break;
            }
            match self.executor.wait() {
                Update::Output { task, line } => {
                    let event = Event::Output { task, line: &line };
                    self.reporter.event(self.plan, &event);
                }
                Update::Finished(completion) => self.on_completion(&completion),
                // A wake-up: the count is read at the top of the loop.
                Update::Wake => {}
            }
        }
    }

    /// An approved task goes back to the ready queue (it starts without
    /// being asked again); a refused one fails; after an interrupt, answers
    /// change nothing (the task stays not run).
    fn take_answers(&mut self, answers: Vec<(TaskId, bool)>) {
        if !answers.is_empty() {
            // An interrupt ends an open question as a no: it must be seen
            // before that no, or the task would count as refused.
            self.take_interrupts();
        }
        for (id, yes) in answers {
            self.asking -= 1;
            if self.stopping {
                continue;
            }
            if yes {
                self.approved[id.index()] = true;
                self.ready.push(id);
            } else {
                let question = self.plan.task(id).confirm.clone().unwrap_or_default();
                self.begin(id);
                self.finish(
                    id,
                    Err(Failure::Refused(format!("not confirmed: {question}"))),
                );
            }
        }
    }

    /// Acts on every interrupt raised since the last look.
    fn take_interrupts(&mut self) {
        let raised = self.signals.count();
        while self.interrupts < raised {
            self.on_interrupt();
        }
    }

    fn on_interrupt(&mut self) {
        self.interrupts += 1;
        self.stopping = true;
        let hard = self.interrupts > 1;
        self.executor.interrupt(hard);
        let event = Event::Interrupted {
            hard,
            running: self.running,
        };
        self.reporter.event(self.plan, &event);
    }

    /// Starts ready tasks by priority while slots are free; a task whose
    /// pool is full waits for the next round without blocking the others.
    fn start_ready(&mut self) {
        let mut pool_full = Vec::new();
        loop {
            // A question may have been open: an interrupt then stops here.
            self.take_interrupts();
            if self.stopping || self.running >= self.options.jobs || self.alone {
                break;
            }
            if let Some(id) = self.held {
                // It goes first, once nothing runs and nobody is asked.
                if self.running > 0 || self.asking > 0 {
                    break;
                }
                self.held = None;
                self.start(id);
                continue;
            }
            let Some(id) = self.ready.pop() else { break };
            // Locked or resumed tasks, then up-to-date ones, finish here, on
            // this thread, without a slot.
            if let Some(reason) = self.decide.skip(self.plan.task(id)) {
                self.skip(id, reason);
                continue;
            }
            if self.up_to_date(id) {
                continue;
            }
            if self.pool_is_full(id) || self.pool_turn_not_come(id) {
                pool_full.push(id);
                continue;
            }
            if self.plan.task(id).interactive && (self.running > 0 || self.asking > 0) {
                self.held = Some(id);
                break;
            }
            if !self.take_token() {
                // Children hold every token: wait for one (or for a task
                // to end), then this task is first again.
                self.ready.push(id);
                break;
            }
            self.start(id);
            self.give_spare_tokens();
        }
        for id in pool_full {
            self.ready.push(id);
        }
    }

    /// A token for one more running task, when serving a jobserver and
    /// something runs already (the first task has the implicit slot).
    fn take_token(&mut self) -> bool {
        if !self.serving || self.running == 0 {
            return true;
        }
        let taken = self.executor.try_take_token();
        self.tokens += usize::from(taken);
        taken
    }

    /// Gives back the tokens no running task needs: a task that ended, or
    /// one that was asked, refused or skipped instead of starting.
    fn give_spare_tokens(&mut self) {
        while self.tokens > self.running.saturating_sub(1) {
            self.executor.give_token();
            self.tokens -= 1;
        }
    }

    /// Whether an earlier member of `id`'s pool (same wave) has not yet
    /// started: then `id` waits its turn.
    fn pool_turn_not_come(&self, id: TaskId) -> bool {
        self.pool_previous[id.index()]
            .is_some_and(|previous| matches!(self.state[previous.index()], State::Waiting))
    }

    fn pool_is_full(&self, id: TaskId) -> bool {
        self.plan
            .task(id)
            .pool
            .as_deref()
            .and_then(|name| self.pools.get(name))
            .is_some_and(|(running, depth)| running >= depth)
    }

    fn pool_change(&mut self, id: TaskId, up: bool) {
        let task = self.plan.task(id);
        if let Some((running, _)) = task.pool.as_deref().and_then(|p| self.pools.get_mut(p)) {
            *running = if up { *running + 1 } else { *running - 1 };
        }
    }

    fn start(&mut self, id: TaskId) {
        let task = self.plan.task(id);
        let decision = if self.approved[id.index()] {
            Decision::Run
        } else {
            self.decide.decide(task)
        };
        match decision {
            Decision::Skip(reason) => self.skip(id, reason),
            Decision::Ask(question) => {
                // Asked in the background; the task waits, the rest goes on.
                self.asking += 1;
                self.asker.ask(id, format!("{}: {question}", task.address));
            }
            Decision::Run => {
                if !self.restore(id) {
                    self.begin(id);
                    self.advance(id);
                }
            }
            Decision::Refuse(reason) => {
                self.begin(id);
                self.finish(id, Err(Failure::Refused(reason)));
            }
        }
    }

    /// Marks `id` running (it takes a slot and its pool's place).
    fn begin(&mut self, id: TaskId) {
        let task = self.plan.task(id);
        self.reporter
            .event(self.plan, &Event::TaskStarted { task: id });
        self.state[id.index()] = State::Running(Box::new(Running {
            run: TaskRun::new(task, self.options.fixes),
            started: Instant::now(),
            current: None,
            jobs_started: 0,
            logged: false,
        }));
        self.running += 1;
        self.alone |= task.interactive;
        self.pool_change(id, true);
    }

    /// A task that does not run: what it unlocks may start when its work is
    /// done already (`--resume`); otherwise its dependents cannot run either.
    fn skip(&mut self, id: TaskId, reason: SkipReason) {
        self.state[id.index()] = State::Done(Box::new(not_run(reason)));
        self.reporter
            .event(self.plan, &Event::TaskSkipped { task: id, reason });
        if reason == SkipReason::Resumed {
            self.freshness.resumed(self.plan.task(id));
            self.release_dependents(id);
        } else {
            self.skip_dependents(id, reason);
        }
    }

    /// Asks a running task what it wants next and does it.
    fn advance(&mut self, id: TaskId) {
        let task = self.plan.task(id);
        let executor = &*self.executor;
        let available = |program: &str| executor.available(program);
        loop {
            let State::Running(running) = &mut self.state[id.index()] else {
                unreachable!("only running tasks advance")
            };
            match running.run.next(task, &available) {
                Action::Skipped { check, program } => {
                    let event = Event::CheckSkipped {
                        task: id,
                        check,
                        program: &program,
                    };
                    self.reporter.event(self.plan, &event);
                }
                // Interrupted: what was in flight has ended; nothing more starts.
                Action::Run(_) | Action::Done(Err(_)) if self.interrupts > 0 => {
                    return self.finish(id, Err(Failure::Interrupted));
                }
                Action::Run(step) => {
                    let attempt = running.run.attempt_of(step);
                    let job = self.jobs.job(id, step, running.jobs_started == 0);
                    running.current = Some(step);
                    running.jobs_started += 1;
                    let event = Event::StepStarted {
                        task: id,
                        step,
                        attempt,
                    };
                    self.reporter.event(self.plan, &event);
                    self.executor.start(job);
                    return;
                }
                Action::Done(result) => return self.finish(id, result),
            }
        }
    }

    fn on_completion(&mut self, completion: &Completion) {
        let id = completion.task;
        let task = self.plan.task(id);
        let State::Running(running) = &mut self.state[id.index()] else {
            unreachable!("a completion for a task that is not running")
        };
        let step = running.current.take().expect("a job was in flight");
        running.logged |= completion.logged;
        let exit = completion.exit.clone();
        let notice = running.run.finished(task, step, exit, &completion.output);
        // After an interrupt a failure is the interrupt's doing: no "retrying".
        let notice = notice.filter(|_| self.interrupts == 0);
        match notice {
            Some(Notice::CheckFailed(failed)) => {
                let event = Event::CheckFailed {
                    task: id,
                    check: failed.check,
                    attempt: failed.attempt,
                    exit: &completion.exit,
                    fixing: failed.fixing,
                    again: failed.again,
                };
                self.reporter.event(self.plan, &event);
            }
            Some(Notice::Retrying { attempt }) => {
                let event = Event::Retrying { task: id, attempt };
                self.reporter.event(self.plan, &event);
            }
            None => {}
        }
        self.advance(id);
    }

    fn finish(&mut self, id: TaskId, result: Result<(), Failure>) {
        let task = self.plan.task(id);
        let State::Running(running) =
            std::mem::replace(&mut self.state[id.index()], State::Waiting)
        else {
            unreachable!("only running tasks finish")
        };
        let result = result.and_then(|()| self.outputs_produced(task));
        let success = result.is_ok();
        if success {
            // Stored under the fingerprint it was checked with, before its
            // record replaces that with what it produced.
            if let Some(fingerprint) = self.freshness.key(task) {
                self.cache.store(task, &fingerprint, &running.run.output);
            }
            self.freshness.succeeded(task, running.started.elapsed());
        } else {
            self.freshness.failed(self.plan, task);
        }
        self.decide.finished(task);
        let log = running
            .logged
            .then(|| self.jobs.log_shown(&task.address))
            .flatten();
        let record = TaskRecord {
            status: result.map_or_else(Status::Failed, |()| Status::Succeeded),
            attempts: running.run.attempts(task),
            duration: running.started.elapsed(),
            gate: running.run.gate_record().cloned(),
            log,
            restored: None,
        };
        self.running -= 1;
        self.give_spare_tokens();
        self.alone &= !task.interactive;
        self.pool_change(id, false);
        let event = Event::TaskFinished {
            task: id,
            record: &record,
            output: &running.run.output,
        };
        self.reporter.event(self.plan, &event);
        self.state[id.index()] = State::Done(Box::new(record));
        if success {
            self.release_dependents(id);
        } else if self.options.keep_going {
            self.skip_dependents(id, SkipReason::DependencyFailed(id));
        } else {
            self.stopping = true;
        }
    }

    fn release_dependents(&mut self, id: TaskId) {
        for &dependent in self.dependents.get(id) {
            let left = &mut self.unfinished[dependent.index()];
            *left -= 1;
            if *left == 0 && matches!(self.state[dependent.index()], State::Waiting) {
                self.ready.push(dependent);
            }
        }
    }

    /// Marks everything downstream of `root` (failed under `--keep-going`, or
    /// locked) as not run for `reason`, at once, so progress counts stay
    /// honest.
    fn skip_dependents(&mut self, root: TaskId, reason: SkipReason) {
        let mut stack = self.dependents.get(root).to_vec();
        while let Some(id) = stack.pop() {
            if !matches!(self.state[id.index()], State::Waiting) {
                continue;
            }
            self.state[id.index()] = State::Done(Box::new(not_run(reason)));
            self.reporter
                .event(self.plan, &Event::TaskSkipped { task: id, reason });
            stack.extend_from_slice(self.dependents.get(id));
        }
    }
}

/// Every task's record; what never started is not run, blaming the
/// failure it depends on when there is one.
fn records(plan: &Plan, states: Vec<State>) -> Vec<TaskRecord> {
    let mut records: Vec<TaskRecord> = Vec::with_capacity(states.len());
    for (task, state) in plan.tasks.iter().zip(states) {
        let record = match state {
            State::Done(record) => *record,
            State::UpToDate => TaskRecord {
                status: Status::UpToDate,
                attempts: 0,
                duration: std::time::Duration::ZERO,
                gate: None,
                log: None,
                restored: None,
            },
            State::Waiting | State::Running(_) => {
                let blame =
                    task.needs
                        .iter()
                        .find_map(|need| match &records[need.index()].status {
                            // An interrupted need did not fail: the build stopped.
                            Status::Failed(Failure::Interrupted) => None,
                            Status::Failed(_) => Some(*need),
                            Status::NotRun(SkipReason::DependencyFailed(root)) => Some(*root),
                            _ => None,
                        });
                not_run(blame.map_or(SkipReason::Stopped, SkipReason::DependencyFailed))
            }
        };
        records.push(record);
    }
    records
}

/// For each pool member, the previous member of its pool in the same wave
/// (tasks of one wave never need each other, so waiting for it cannot
/// deadlock).
fn pool_previous(plan: &Plan) -> Vec<Option<TaskId>> {
    let mut last: HashMap<(&str, u32), TaskId> = HashMap::new();
    plan.tasks
        .iter()
        .map(|task| {
            let pool = task.pool.as_deref()?;
            last.insert((pool, task.wave), task.id)
        })
        .collect()
}

fn not_run(reason: SkipReason) -> TaskRecord {
    TaskRecord {
        status: Status::NotRun(reason),
        attempts: 0,
        duration: std::time::Duration::ZERO,
        gate: None,
        log: None,
        restored: None,
    }
}

#[cfg(test)]
mod size {
    /// A no-op build holds one state per task: it must stay a word or two
    /// (a full record per task made 4 MB of fresh memory at 20k tasks).
    #[test]
    fn a_tasks_state_is_two_words() {
        assert!(size_of::<super::State>() <= 16);
    }
}
