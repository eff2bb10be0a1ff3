//! Every name that refers to something else must resolve: `needs` and
//! `default` addresses, gates, pools, pipelines (`complexity`), relations and
//! `depends-on`. Each miss gets a "did you mean" or the list of candidates.

use crate::diagnostic::Diagnostic;
use crate::model::{Body, Item, Model, PipelineItem, Spanned};
use crate::words::suggest;

pub(super) fn check(model: &Model, source: &str, out: &mut Vec<Diagnostic>) {
    let c = model.config();
    let mut r = Refs { model, source, out };
    if let Some(default) = &c.project.default {
        r.address(default);
    }
    if let Some(level) = &c.project.complexity {
        r.pipeline(level);
    }
    for task in &c.tasks {
        r.body(&task.body);
    }
    for rule in &c.rules {
        r.body(&rule.body);
    }
    for target in &c.targets {
        target.needs.iter().for_each(|n| r.address(n));
        target.gate.iter().for_each(|g| r.gate(g));
    }
    for group in &c.entity_groups {
        group.needs.iter().for_each(|n| r.address(n));
        group.each_gate.iter().for_each(|g| r.gate(g));
        group.wave_gate.iter().for_each(|g| r.gate(g));
        group.steps.iter().for_each(|s| r.body(&s.body));
        let names: Vec<&str> = group.entities.iter().map(|e| e.name.as_str()).collect();
        for entity in &group.entities {
            for relation in &entity.relations {
                r.local("entity", relation, &names, &group.name.value);
            }
        }
    }
    for pipeline in &c.pipelines {
        pipeline.phase_gate.iter().for_each(|g| r.gate(g));
        for item in &pipeline.items {
            match item {
                PipelineItem::Stage(stage) => r.body(&stage.body),
                PipelineItem::Gate(gate) => r.gate(gate),
                PipelineItem::Phases(_) => {}
            }
        }
    }
    for milestone in &c.milestones {
        milestone.phase_gate.iter().for_each(|g| r.gate(g));
        milestone.needs.iter().for_each(|n| r.address(n));
        milestone.complexity.iter().for_each(|l| r.pipeline(l));
        let names: Vec<&str> = milestone.phases.iter().map(|p| p.name.as_str()).collect();
        for phase in &milestone.phases {
            r.body(&phase.body);
            for dep in phase.depends_on.iter().flatten() {
                r.local("phase", dep, &names, &milestone.name.value);
            }
        }
    }
}

struct Refs<'a> {
    model: &'a Model,
    source: &'a str,
    out: &'a mut Vec<Diagnostic>,
}

impl Refs<'_> {
    fn body(&mut self, body: &Body) {
        body.needs.iter().for_each(|n| self.address(n));
        body.gate.iter().for_each(|g| self.gate(g));
        body.pool.iter().for_each(|p| self.pool(p));
    }

    fn address(&mut self, address: &Spanned<String>) {
        if let Err(e) = self.model.resolve(address) {
            if self.model.config().misspelled.contains(&e.name) {
                return;
            }
            // In `M1/shema`, point at `shema`.
            let span = if address.contains('/') {
                super::inner_span(self.source, address.span, address, e.offset, e.name.len())
            } else {
                address.span
            };
            self.out.push(Diagnostic::UnknownReference {
                what: e.what,
                name: e.name,
                span,
                suggestion: e.suggestion,
                hint: e.hint,
            });
        }
    }

    fn gate(&mut self, name: &Spanned<String>) {
        match self.model.item(name) {
            Some(Item::Gate(_)) => {}
            Some(other) => self.out.push(Diagnostic::WrongReferenceKind {
                name: name.value.clone(),
                expected: "gate",
                found: other.kind(),
                span: name.span,
            }),
            None => {
                let gates: Vec<&str> = self
                    .model
                    .config()
                    .gates
                    .iter()
                    .map(|g| g.name.as_str())
                    .collect();
                self.missing(
                    "gate",
                    name,
                    &gates,
                    "no gate is declared: add `gate \"name\" { check … }`",
                );
            }
        }
    }

    fn pool(&mut self, name: &Spanned<String>) {
        if self.model.pool(name).is_none() {
            let pools: Vec<&str> = self
                .model
                .config()
                .pools
                .iter()
                .map(|p| p.name.as_str())
                .collect();
            self.missing(
                "pool",
                name,
                &pools,
                "no pool is declared: add `pool \"name\" depth=1`",
            );
        }
    }

    fn pipeline(&mut self, level: &Spanned<String>) {
        if self.model.pipeline(level).is_none() {
            let levels: Vec<&str> = self
                .model
                .config()
                .pipelines
                .iter()
                .map(|p| p.name.as_str())
                .collect();
            let none = format!(
                "no pipeline is declared: add `pipeline \"{}\" {{ phases }}`",
                level.value
            );
            self.missing("pipeline", level, &levels, &none);
        }
    }

    /// A name that must be one of `names` within `parent`.
    fn local(&mut self, what: &'static str, name: &Spanned<String>, names: &[&str], parent: &str) {
        if !names.contains(&name.as_str()) {
            let none = format!("`{parent}` declares no {what}s");
            self.missing(what, name, names, &none);
        }
    }

    fn missing(
        &mut self,
        what: &'static str,
        name: &Spanned<String>,
        candidates: &[&str],
        none: &str,
    ) {
        if self.model.config().misspelled.contains(&name.value) {
            return;
        }
        let suggestion = suggest(name, candidates.iter().copied());
        let hint = if candidates.is_empty() {
            none.to_owned()
        } else {
            format!("declared {what}s: {}", candidates.join(", "))
        };
        self.out.push(Diagnostic::UnknownReference {
            what,
            name: name.value.clone(),
            span: name.span,
            suggestion,
            hint: Some(hint),
        });
    }
}
