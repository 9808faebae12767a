//! The options of `#[task(...)]` and `#[kwarg(...)]`.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::{Attribute, Expr, LitStr, Meta, Path};

/// Options of `#[task(...)]` and `#[main(...)]`.
pub(crate) struct TaskOptions {
    /// The path of the facade crate; `::parapool` unless `crate = "..."` is given.
    pub(crate) krate: Path,
}

impl TaskOptions {
    /// Parses the arguments of attribute `attr` (`task` or `main`): nothing, or `crate = "path"`.
    pub(crate) fn parse(args: TokenStream, attr: &str) -> syn::Result<TaskOptions> {
        let mut krate: Option<Path> = None;
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident("crate") {
                if krate.is_some() {
                    return Err(meta.error(format_args!("duplicate #[{attr}] option `crate`")));
                }
                let lit: LitStr = meta
                    .value()?
                    .parse()
                    .map_err(|e| syn::Error::new(e.span(), "expected a string: `crate = \"path::to::parapool\"`"))?;
                let path = lit.parse_with(Path::parse_mod_style).map_err(|_| {
                    syn::Error::new_spanned(
                        &lit,
                        "`crate` must be a path such as \"::parapool\" or \"my_crate::parapool\"",
                    )
                })?;
                krate = Some(path);
                Ok(())
            } else {
                let name = path_to_string(&meta.path);
                Err(meta
                    .error(format_args!("unknown #[{attr}] option `{name}`: the only option is `crate = \"path\"`")))
            }
        });
        parser.parse2(args)?;
        Ok(TaskOptions { krate: krate.unwrap_or_else(|| syn::parse_quote!(::parapool)) })
    }
}

/// Options of one `#[kwarg]` / `#[kwarg(default = EXPR)]` attribute.
pub(crate) struct KwargOptions {
    /// The default value, when given.
    pub(crate) default: Option<Expr>,
}

/// Whether `attr` is a `#[kwarg]` attribute.
pub(crate) fn is_kwarg(attr: &Attribute) -> bool {
    attr.path().is_ident("kwarg")
}

/// Whether `attr` is a `#[cfg(...)]` attribute.
pub(crate) fn is_cfg(attr: &Attribute) -> bool {
    attr.path().is_ident("cfg")
}

/// Whether `attr` is a doc comment or `#[doc(...)]` attribute.
pub(crate) fn is_doc(attr: &Attribute) -> bool {
    attr.path().is_ident("doc")
}

/// Parses a `#[kwarg]` attribute.
pub(crate) fn parse_kwarg(attr: &Attribute) -> syn::Result<KwargOptions> {
    let mut default: Option<Expr> = None;
    match &attr.meta {
        Meta::Path(_) => {}
        Meta::List(list) => {
            list.parse_nested_meta(|meta| {
                if meta.path.is_ident("default") {
                    if default.is_some() {
                        return Err(meta.error("duplicate #[kwarg] option `default`"));
                    }
                    default = Some(meta.value()?.parse()?);
                    Ok(())
                } else {
                    let name = path_to_string(&meta.path);
                    Err(meta.error(format_args!("unknown #[kwarg] option `{name}`: expected `default = EXPR`")))
                }
            })?;
        }
        Meta::NameValue(nv) => {
            return Err(syn::Error::new_spanned(
                nv,
                "expected `#[kwarg]` or `#[kwarg(default = EXPR)]`, not `#[kwarg = ...]`",
            ));
        }
    }
    Ok(KwargOptions { default })
}

/// `a::b::c`, without spaces.
pub(crate) fn path_to_string(path: &Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let lead = if path.leading_colon.is_some() { "::" } else { "" };
    format!("{lead}{}", segments.join("::"))
}
