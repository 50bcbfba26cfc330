//! Connection state (`state` and `on .. set` in an analyzer): the state struct the
//! analyzer holds and what each PDU handler does with it.

use super::analyzers::StateTokens;
use super::*;
use crate::ident::ident;
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
        let inits = a.states.iter().map(|s| Literal::u64_unsuffixed(s.init));
        let doc = format!(
            " The `{}` analyzer's connection state (`state` items).",
            a.name
        );
        (
            quote! {
                #[doc = #doc]
                #[derive(Debug, Clone, PartialEq, Eq)]
                pub struct #ty { #(pub #names: u64,)* }
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
        let args = args.iter().map(|n| {
            let n = ident(n);
            quote!(state.#n)
        });
        let sets: Vec<TokenStream> = a
            .sets
            .iter()
            .filter(|s| s.unit == unit)
            .map(|s| {
                let var = ident(&s.var);
                let value = self.int(&s.value, &Cx::Bind);
                quote!(state.#var = #value;)
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
