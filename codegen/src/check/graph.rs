//! The graph of generated types that hold each other by value, and the edges
//! that must be boxed so a recursive unit has a finite size (like
//! prost-build's `message_graph`).
//!
//! Nodes are the generated types: units (structs), switch units (enums) and
//! the enums of inline `switch` fields. An edge is a field or switch arm that
//! stores another node by value (also inside `Option`); arrays are `Vec`s and
//! break cycles already. A depth-first walk in declaration order boxes every
//! edge that returns to a type still being walked: the edge that closes a
//! cycle.

use crate::ast::{FieldKind, TypeSpec, UnitBody};
use crate::ident::inner_type_name;
use crate::types::{Ty, World};
use std::collections::{HashMap, HashSet};

/// A generated type: (module, Rust type name).
type NodeId = (usize, String);

/// The boxed edges: (module, owner type, field or arm name).
#[derive(Debug, Default)]
pub struct Boxed(HashSet<(usize, String, String)>);

impl Boxed {
    /// Whether field (or arm) `name` of generated type `owner` is stored boxed.
    pub fn field(&self, m: usize, owner: &str, name: &str) -> bool {
        self.0.contains(&(m, owner.to_string(), name.to_string()))
    }
}

/// Edges out of every node, in declaration order: (field or arm name, target).
fn edges(w: &World) -> Vec<(NodeId, Vec<(String, NodeId)>)> {
    let mut out = Vec::new();
    // The unit a field or arm stores by value, resolved as its type is (builtins first).
    let stored = |m: usize, unit: &str, field: &str, ts: &TypeSpec| -> Option<NodeId> {
        if !matches!(ts, TypeSpec::Simple { array: None, .. }) {
            return None;
        }
        match w.spec_ty(m, unit, field, ts)? {
            Ty::Unit(um, name) | Ty::Union(um, name) => Some((um, name)),
            _ => None,
        }
    };
    for (m, module) in w.modules.iter().enumerate() {
        for u in &module.units {
            let mut own = Vec::new();
            match &u.body {
                UnitBody::Fields(fields) => {
                    for f in fields.iter().filter(|f| f.name != "_") {
                        let FieldKind::Typed(ts) = &f.kind else {
                            continue;
                        };
                        if let TypeSpec::Switch(sw) = ts {
                            let inner = (m, inner_type_name(&u.name, &f.name));
                            let arms = sw
                                .arms
                                .iter()
                                .filter_map(|a| a.body.as_ref())
                                .filter_map(|a| {
                                    Some((a.name.clone(), stored(m, &u.name, &a.name, &a.ty)?))
                                })
                                .collect();
                            own.push((f.name.clone(), inner.clone()));
                            out.push((inner, arms));
                        } else if let Some(target) = stored(m, &u.name, &f.name, ts) {
                            own.push((f.name.clone(), target));
                        }
                    }
                }
                UnitBody::Switch(sw) => {
                    for a in sw.arms.iter().filter_map(|a| a.body.as_ref()) {
                        if let Some(target) = stored(m, &u.name, &a.name, &a.ty) {
                            own.push((a.name.clone(), target));
                        }
                    }
                }
            }
            out.push(((m, u.name.clone()), own));
        }
    }
    // Walk units before the inline enums they own, in declaration order.
    out.sort_by_key(|(node, _)| {
        let (m, name) = node;
        let unit_pos = w.modules[*m].units.iter().position(|u| &u.name == name);
        (*m, unit_pos.is_none())
    });
    out
}

/// The edges that close cycles of by-value types.
pub fn boxed_edges(w: &World) -> Boxed {
    let graph = edges(w);
    let index: HashMap<&NodeId, usize> =
        graph.iter().enumerate().map(|(i, (n, _))| (n, i)).collect();
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        OnPath,
        Done,
    }
    let mut state = vec![State::New; graph.len()];
    let mut boxed = Boxed::default();
    for start in 0..graph.len() {
        if state[start] != State::New {
            continue;
        }
        // Iterative DFS: (node, next edge to follow).
        let mut stack = vec![(start, 0usize)];
        state[start] = State::OnPath;
        while let Some((node, next)) = stack.last_mut() {
            let (owner, out) = &graph[*node];
            let Some((name, target)) = out.get(*next) else {
                state[*node] = State::Done;
                stack.pop();
                continue;
            };
            *next += 1;
            let Some(&t) = index.get(target) else {
                continue;
            };
            match state[t] {
                State::OnPath => {
                    boxed.0.insert((owner.0, owner.1.clone(), name.clone()));
                }
                State::New => {
                    state[t] = State::OnPath;
                    stack.push((t, 0));
                }
                State::Done => {}
            }
        }
    }
    boxed
}
