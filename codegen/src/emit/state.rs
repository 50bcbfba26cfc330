//! Connection state (`state` and `on .. set` in an analyzer): the state struct the
//! analyzer holds and what each PDU handler does with it.

use super::analyzers::StateTokens;
use super::*;
use crate::ident::ident;
use crate::ast::SetOp;
use crate::ir::Analyzer;

impl Emitter<'_> {
    /// The state struct, the analyzer's field holding it and its initialiser
    /// (all empty when the analyzer declares no state).
    pub(super) fn state_struct(
        &self,
        a: &Analyzer,
        ty: &Ident,
    ) -> (TokenStream, TokenStream, TokenStream) {
        if a.states.is_empty() {
            return (quote!(), quote!(), quote!());
        }
        let names: Vec<Ident> = a.states.iter().map(|s| ident(&s.name)).collect();
        // A queue is a FIFO of u64 values; every other variable is a u64.
        let types: Vec<TokenStream> = a
            .states
            .iter()
            .map(|s| match s.queue {
                Some(_) => quote!(::std::collections::VecDeque<u64>),
                None => quote!(u64),
            })
            .collect();
        let inits: Vec<TokenStream> = a
            .states
            .iter()
            .map(|s| match s.queue {
                Some(_) => quote!(::std::collections::VecDeque::new()),
                None => {
                    let v = Literal::u64_unsuffixed(s.init);
                    quote!(#v)
                }
            })
            .collect();
        let doc = format!(
            " The `{}` analyzer's connection state (`state` items).",
            a.name
        );
        (
            quote! {
                #[doc = #doc]
                #[derive(Debug, Clone, PartialEq, Eq)]
                pub struct #ty { #(pub #names: #types,)* }
                impl ::std::default::Default for #ty {
                    fn default() -> Self {
                        #ty { #(#names: #inits,)* }
                    }
                }
            },
            quote! {
                /// Variables kept between PDUs (`state` items).
                pub state: #ty,
            },
            quote!(state: #ty::default(),),
        )
    }

    /// What the handler of `unit`'s PDUs adds: the state parameter, `args` (state
    /// variables) as the unit's arguments, and the `on x: unit set ..` updates,
    /// applied in declaration order after a parse that succeeded.
    pub(super) fn state_tokens(&self, a: &Analyzer, unit: &str, args: &[String]) -> StateTokens {
        if a.states.is_empty() {
            return StateTokens::default();
        }
        let ty = format_ident!("{}State", crate::ident::camel(&a.name));
        // A queue passed to a line unit is its oldest value (0 when empty).
        let args = args.iter().map(|n| {
            let is_queue = a.states.iter().any(|s| s.name == *n && s.queue.is_some());
            let n = ident(n);
            if is_queue {
                quote!(state.#n.front().copied().unwrap_or(0))
            } else {
                quote!(state.#n)
            }
        });
        let sets: Vec<TokenStream> = a
            .sets
            .iter()
            .filter(|s| s.unit == unit)
            .map(|s| {
                let var = ident(&s.var);
                let value = self.int(&s.value, &Cx::Bind);
                let update = match s.op {
                    SetOp::Set => quote!(state.#var = #value;),
                    SetOp::Pop => quote!(state.#var.pop_front();),
                    SetOp::Push => {
                        let q = a
                            .states
                            .iter()
                            .find_map(|v| (v.name == s.var).then_some(v.queue.as_ref()).flatten());
                        let cap = Literal::u64_unsuffixed(q.map_or(1, |q| q.cap));
                        let weird = match q.and_then(|q| q.overflow_weird.as_deref()) {
                            Some(w) => quote!(cx.weird(#w, ::std::string::String::new());),
                            None => quote!(),
                        };
                        quote! {
                            // Full: cleared first (SMTP.cc's pending commands).
                            if state.#var.len() as u64 >= #cap {
                                #weird
                                state.#var.clear();
                            }
                            state.#var.push_back(#value);
                        }
                    }
                };
                match &s.cond {
                    Some(c) => {
                        let c = self.boolean(c, &Cx::Bind);
                        quote!(if #c { #update })
                    }
                    None => update,
                }
            })
            .collect();
        let update = if sets.is_empty() {
            quote!()
        } else {
            quote! {
                if let ::std::result::Result::Ok(pdu) = &parsed {
                    // A constant value does not read the PDU.
                    let _ = pdu;
                    #(#sets)*
                }
            }
        };
        StateTokens {
            param: quote!(, state: &mut #ty),
            args: quote!(#(, #args)*),
            update,
        }
    }
}
