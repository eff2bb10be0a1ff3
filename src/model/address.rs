//! Addresses: `name`, `milestone/phase`, `group/entity`, `group/entity/step`,
//! `rule/member` (the member may itself hold `/`: `cc/net/http`).

use super::{Item, Model};
use crate::words::suggest;

/// What an address names in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Address {
    Item(Item),
    Phase {
        milestone: usize,
        phase: usize,
    },
    Entity {
        group: usize,
        entity: usize,
    },
    Step {
        group: usize,
        entity: usize,
        step: usize,
    },
    /// One file's task of a rule: `file` indexes [`Model::rule_files`].
    RuleTask {
        rule: usize,
        file: usize,
    },
}

impl Address {
    /// The top-level item the address lies in.
    pub(crate) fn item(self) -> Item {
        match self {
            Self::Item(item) => item,
            Self::Phase { milestone, .. } => Item::Milestone(milestone),
            Self::Entity { group, .. } | Self::Step { group, .. } => Item::Entities(group),
            Self::RuleTask { rule, .. } => Item::Rule(rule),
        }
    }
}

/// Why an address does not resolve; `what` and `name` name the failing part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AddressError {
    pub(crate) what: &'static str,
    pub(crate) name: String,
    /// Byte offset of the failing part within the address.
    pub(crate) offset: usize,
    pub(crate) suggestion: Option<String>,
    pub(crate) hint: Option<String>,
}

impl Model {
    /// Resolves an address against the model.
    pub(crate) fn resolve(&self, address: &str) -> Result<Address, AddressError> {
        let mut parts = address.split('/');
        let head = parts.next().unwrap_or_default();
        let Some(item) = self.item(head) else {
            let suggestion = suggest(head, self.item_names());
            return Err(AddressError {
                what: "address",
                name: head.into(),
                offset: 0,
                hint: suggestion.is_none().then(|| self.declared_hint()),
                suggestion,
            });
        };
        let Some(second) = parts.next() else {
            return Ok(Address::Item(item));
        };
        let second_at = head.len() + 1;
        let config = self.config();
        let resolved = match item {
            Item::Milestone(m) => {
                let phases = &config.milestones[m].phases;
                let phase = find(
                    phases.iter().map(|p| p.name.as_str()),
                    second,
                    "phase",
                    second_at,
                    head,
                )?;
                Address::Phase {
                    milestone: m,
                    phase,
                }
            }
            Item::Entities(g) => {
                let group = &config.entity_groups[g];
                let entity = find(
                    group.entities.iter().map(|e| e.name.as_str()),
                    second,
                    "entity",
                    second_at,
                    head,
                )?;
                match parts.next() {
                    None => Address::Entity { group: g, entity },
                    Some(third) => {
                        let at = second_at + second.len() + 1;
                        let step = find(
                            group.steps.iter().map(|s| s.name.as_str()),
                            third,
                            "step",
                            at,
                            head,
                        )?;
                        Address::Step {
                            group: g,
                            entity,
                            step,
                        }
                    }
                }
            }
            // Everything after the rule's name is the member.
            Item::Rule(r) => return self.rule_task(r, head, &address[second_at..], second_at),
            _ => {
                return Err(AddressError {
                    what: "part",
                    name: second.into(),
                    offset: second_at,
                    suggestion: None,
                    hint: Some(format!(
                        "`{head}` is a {}: only milestones (`M1/phase`), entity groups (`entities/product`) and rules (`cc/main`) have parts",
                        item.kind()
                    )),
                });
            }
        };
        match parts.next() {
            None => Ok(resolved),
            Some(extra) => Err(AddressError {
                what: "part",
                name: extra.into(),
                offset: address.len() - extra.len(),
                suggestion: None,
                hint: Some("this address has too many parts".into()),
            }),
        }
    }
}

impl Model {
    /// `rule/member`: the task of the file whose member name is `member`.
    fn rule_task(
        &self,
        r: usize,
        head: &str,
        member: &str,
        offset: usize,
    ) -> Result<Address, AddressError> {
        let files = self.rule_files(r);
        let file = files.iter().position(|f| f.member == member);
        let Some(file) = file else {
            let names = files.iter().map(|f| f.member.as_str());
            let suggestion = suggest(member, names.clone());
            let mut listed: Vec<&str> = names.take(HINT_NAMES + 1).collect();
            let hint = if listed.is_empty() {
                format!("`{head}` matched no file, so it has no tasks")
            } else {
                let more = if listed.len() > HINT_NAMES {
                    " …"
                } else {
                    ""
                };
                listed.truncate(HINT_NAMES);
                format!(
                    "tasks of `{head}` (one per file): {}{more}",
                    listed.join(", ")
                )
            };
            return Err(AddressError {
                what: "file task",
                name: member.into(),
                offset,
                hint: suggestion.is_none().then_some(hint),
                suggestion,
            });
        };
        Ok(Address::RuleTask { rule: r, file })
    }
}

/// At most this many names are listed in a hint.
const HINT_NAMES: usize = 10;

impl Model {
    /// Help for a name that is no near miss: what could have been named.
    fn declared_hint(&self) -> String {
        let mut names: Vec<&str> = self.item_names().collect();
        if names.is_empty() {
            return "nothing is declared yet: add a task, rule, gate, milestone, target or entities"
                .into();
        }
        names.sort_unstable();
        let more = names.len().saturating_sub(HINT_NAMES);
        names.truncate(HINT_NAMES);
        let list = names.join(", ");
        if more > 0 {
            format!("declared: {list} and {more} more")
        } else {
            format!("declared: {list}")
        }
    }
}

fn find<'a>(
    names: impl Iterator<Item = &'a str> + Clone,
    wanted: &str,
    what: &'static str,
    offset: usize,
    parent: &str,
) -> Result<usize, AddressError> {
    names.clone().position(|n| n == wanted).ok_or_else(|| {
        let suggestion = suggest(wanted, names.clone());
        let declared: Vec<&str> = names.collect();
        AddressError {
            what,
            name: wanted.into(),
            offset,
            hint: (suggestion.is_none()).then(|| {
                if declared.is_empty() {
                    format!("`{parent}` has no {what}s")
                } else {
                    format!("{what}s of `{parent}`: {}", declared.join(", "))
                }
            }),
            suggestion,
        }
    })
}
