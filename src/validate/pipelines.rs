//! A milestone with phases must go through a pipeline that places them:
//! a pipeline without `phases` would drop them from the plan without a word.

use crate::diagnostic::Diagnostic;
use crate::model::{Model, PipelineItem};

pub(super) fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for milestone in &model.config().milestones {
        if milestone.phases.is_empty() {
            continue;
        }
        let Some(pipeline) = model.pipeline_of(milestone) else {
            continue;
        };
        let places_phases = pipeline
            .items
            .iter()
            .any(|i| matches!(i, PipelineItem::Phases(_)));
        if !places_phases {
            out.push(Diagnostic::PhasesDropped {
                pipeline: pipeline.name.value.clone(),
                milestone: milestone.name.value.clone(),
                pipeline_span: pipeline.name.span,
                milestone_span: milestone.name.span,
            });
        }
    }
}
