//! Validates the annotated function and splits it into what the expansion needs.

use proc_macro2::{Ident, Span};
use syn::spanned::Spanned;
use syn::{Attribute, Block, Expr, FnArg, ItemFn, Pat, PatType, ReturnType, Signature, Type, Visibility};

use crate::attrs;
use crate::types::{self, Kind};

/// A validated `#[task]` function.
pub(crate) struct TaskFn {
    /// Doc attributes: they go on the handle type.
    pub(crate) docs: Vec<Attribute>,
    /// `#[cfg]` attributes: they go on every generated item.
    pub(crate) cfgs: Vec<Attribute>,
    /// Every other attribute: it stays on the function body.
    pub(crate) body_attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) ident: Ident,
    /// The span of the parenthesized parameter list.
    pub(crate) params_span: Span,
    /// The parameters as written, without `#[kwarg]` attributes, in declaration order.
    pub(crate) inputs: Vec<PatType>,
    /// The types of the positional parameters and their kinds, in order.
    pub(crate) positional: Vec<(Type, Kind)>,
    /// The keyword parameters, in order (after every positional one).
    pub(crate) kwargs: Vec<Kwarg>,
    pub(crate) output: ReturnType,
    pub(crate) block: Box<Block>,
}

/// One `#[kwarg]` parameter.
pub(crate) struct Kwarg {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    pub(crate) kind: Kind,
    pub(crate) default: Option<Expr>,
}

/// Checks `item` and splits it; every problem found is reported, combined into one error.
pub(crate) fn analyze(item: ItemFn) -> syn::Result<TaskFn> {
    let mut errors = Vec::new();
    check_signature(&item.sig, &mut errors);

    let mut inputs = Vec::new();
    let mut positional = Vec::new();
    let mut kwargs: Vec<Kwarg> = Vec::new();
    for arg in &item.sig.inputs {
        let FnArg::Typed(pat_type) = arg else {
            errors.push(syn::Error::new_spanned(
                arg,
                "#[task] must be on a free function, not a method: a task cannot take `self`",
            ));
            continue;
        };
        let (param, kwarg) = split_param(pat_type, &mut errors);
        let kind = types::classify(&param.ty, &mut errors);
        match kwarg {
            Some(options) => match kwarg_ident(&param.pat) {
                Some(ident) => {
                    kwargs.push(Kwarg { ident, ty: (*param.ty).clone(), kind, default: options.default });
                }
                None => errors.push(syn::Error::new_spanned(
                    &param.pat,
                    "#[kwarg] parameters must be plain identifiers (`name: T` or `mut name: T`): a keyword \
                     argument is a named field, so it cannot be a pattern",
                )),
            },
            None => {
                if let Some(last) = kwargs.last() {
                    errors.push(syn::Error::new_spanned(
                        pat_type,
                        format!(
                            "positional parameter after a #[kwarg]: keyword arguments must come last; move this \
                             parameter before `{}` or mark it #[kwarg]",
                            last.ident
                        ),
                    ));
                }
                positional.push(((*param.ty).clone(), kind));
            }
        }
        inputs.push(param);
    }
    if let Some(variadic) = &item.sig.variadic {
        errors.push(syn::Error::new_spanned(variadic, "#[task] functions cannot be variadic"));
    }
    types::check_return(&item.sig.output, &mut errors);

    if let Some(error) = combine(errors) {
        return Err(error);
    }

    let (mut docs, mut cfgs, mut body_attrs) = (Vec::new(), Vec::new(), Vec::new());
    for attr in item.attrs {
        if attrs::is_doc(&attr) {
            docs.push(attr);
        } else if attrs::is_cfg(&attr) {
            cfgs.push(attr);
        } else {
            body_attrs.push(attr);
        }
    }
    Ok(TaskFn {
        docs,
        cfgs,
        body_attrs,
        vis: item.vis,
        ident: item.sig.ident,
        params_span: item.sig.paren_token.span.join(),
        inputs,
        positional,
        kwargs,
        output: item.sig.output,
        block: item.block,
    })
}

/// Merges `errors` into one, if there are any.
pub(crate) fn combine(errors: Vec<syn::Error>) -> Option<syn::Error> {
    errors.into_iter().reduce(|mut all, error| {
        all.combine(error);
        all
    })
}

/// The qualifiers and generics of the function.
fn check_signature(sig: &Signature, errors: &mut Vec<syn::Error>) {
    if let Some(token) = &sig.constness {
        errors.push(syn::Error::new_spanned(token, "#[task] functions cannot be `const fn`"));
    }
    if let Some(token) = &sig.asyncness {
        errors.push(syn::Error::new_spanned(
            token,
            "#[task] functions cannot be async: a task runs to completion on a worker; make it a plain `fn` \
             (and block on any future inside it)",
        ));
    }
    if let Some(token) = &sig.unsafety {
        errors.push(syn::Error::new_spanned(
            token,
            "#[task] functions cannot be `unsafe`: a pool calls a task through a safe interface",
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(abi, "#[task] functions cannot be `extern`: remove the ABI"));
    }
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            "#[task] functions cannot be generic: a task is registered and run by name, so it needs one concrete \
             signature; use concrete owned types",
        ));
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        errors.push(syn::Error::new_spanned(
            where_clause,
            "#[task] functions cannot be generic: remove the `where` clause and use concrete owned types",
        ));
    }
}

/// Strips `#[kwarg]` from a parameter, returning its options when it had one, and rejects
/// attributes that would change the parameter list.
fn split_param(pat_type: &PatType, errors: &mut Vec<syn::Error>) -> (PatType, Option<attrs::KwargOptions>) {
    let mut param = pat_type.clone();
    let mut kwarg = None;
    let mut kept = Vec::new();
    for attr in std::mem::take(&mut param.attrs) {
        if attrs::is_kwarg(&attr) {
            if kwarg.is_some() {
                errors.push(syn::Error::new_spanned(&attr, "duplicate #[kwarg] attribute"));
                continue;
            }
            match attrs::parse_kwarg(&attr) {
                Ok(options) => kwarg = Some(options),
                Err(error) => {
                    errors.push(error);
                    kwarg = Some(attrs::KwargOptions { default: None });
                }
            }
        } else if attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr") {
            errors.push(syn::Error::new(
                attr.span(),
                "#[task] parameters cannot be conditional: the parameter list is the task's signature",
            ));
        } else {
            kept.push(attr);
        }
    }
    param.attrs = kept;
    (param, kwarg)
}

/// The name of a keyword parameter: `name` or `mut name`, nothing else.
fn kwarg_ident(pat: &Pat) -> Option<Ident> {
    match pat {
        Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() && ident.attrs.is_empty() => {
            Some(ident.ident.clone())
        }
        _ => None,
    }
}

/// The function with `#[kwarg]` attributes removed, emitted next to the errors so that the rest of
/// the crate still resolves it; `None` when the signature itself is not a valid free function.
pub(crate) fn fallback(mut item: ItemFn) -> Option<ItemFn> {
    let invalid = item.sig.variadic.is_some() || item.sig.inputs.iter().any(|arg| matches!(arg, FnArg::Receiver(_)));
    if invalid {
        return None;
    }
    for arg in &mut item.sig.inputs {
        if let FnArg::Typed(pat_type) = arg {
            pat_type.attrs.retain(|attr| !attrs::is_kwarg(attr));
        }
    }
    Some(item)
}
