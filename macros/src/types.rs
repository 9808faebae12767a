//! Syntactic checks on parameter and return types: owned or a reference to an owned type,
//! concrete, no `impl Trait`; and the kind of each parameter (how it is passed).

use syn::{GenericArgument, Lifetime, PathArguments, ReturnType, Type, TypeParamBound};

/// Where a type appears, for error messages.
#[derive(Clone, Copy)]
pub(crate) enum Position {
    /// Inside a parameter type (under its outer reference, if any).
    Param,
    /// The return type.
    Return,
}

const OWNED_HINT: &str =
    "(serde + Send + 'static): use String instead of &str, Vec<T> instead of &[T], T instead of &T";

const NESTED_BORROW: &str = "#[task] parameters are owned types or references to owned types (`&str`, `&[u8]`, \
     `&[T]`, `&T`): a borrow inside another type cannot reach a worker process; use an owned type inside \
     it (`Vec<String>`, not `Vec<&str>`), or take the whole value by reference (`&[String]`)";

fn borrowed_message(position: Position) -> String {
    match position {
        Position::Param => NESTED_BORROW.to_owned(),
        Position::Return => format!("#[task] return types must be owned {OWNED_HINT}"),
    }
}

/// How a parameter is passed (`parapool::backend::param`): the five kinds `#[task]` knows.
#[derive(Clone)]
pub(crate) enum Kind {
    /// `&str`.
    Str,
    /// `&[u8]`.
    Bytes,
    /// `&[T]`: the element type.
    Slice(Type),
    /// `&T`: the referent.
    Ref(Type),
    /// `T`, by value.
    Owned(Type),
}

impl Kind {
    /// Whether the parameter is a reference.
    pub(crate) fn borrows(&self) -> bool {
        !matches!(self, Kind::Owned(_))
    }
}

/// Sorts a parameter type into its [`Kind`], pushing an error per problem found.
pub(crate) fn classify(ty: &Type, errors: &mut Vec<syn::Error>) -> Kind {
    let Type::Reference(reference) = strip(ty) else {
        check(ty, Position::Param, errors);
        return Kind::Owned(ty.clone());
    };
    if let Some(token) = &reference.mutability {
        errors.push(syn::Error::new_spanned(
            token,
            "#[task] parameters cannot be `&mut`: a task cannot change its caller's data (it may run in \
             another process); take `&T`, or an owned `T` and return the new value",
        ));
    }
    if let Some(lifetime) = &reference.lifetime {
        if lifetime.ident != "_" {
            errors.push(syn::Error::new_spanned(
                lifetime,
                "write #[task] reference parameters without a lifetime (`&str`, `&T`): a borrowed argument \
                 lives as long as its call, never `'static`",
            ));
        }
    }
    let referent = strip(&reference.elem);
    if is_ident(referent, "str") {
        return Kind::Str;
    }
    if let Type::Slice(slice) = referent {
        if is_ident(strip(&slice.elem), "u8") {
            return Kind::Bytes;
        }
        check(&slice.elem, Position::Param, errors);
        return Kind::Slice((*slice.elem).clone());
    }
    check(referent, Position::Param, errors);
    Kind::Ref(referent.clone())
}

/// `ty` without invisible groups and parentheses.
fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => strip(&group.elem),
        Type::Paren(paren) => strip(&paren.elem),
        other => other,
    }
}

/// Whether `ty` is spelled as the single identifier `name`.
fn is_ident(ty: &Type, name: &str) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none() && path.path.is_ident(name))
}

/// Checks one type, pushing an error per problem found.
pub(crate) fn check(ty: &Type, position: Position, errors: &mut Vec<syn::Error>) {
    match ty {
        Type::Reference(_) => errors.push(syn::Error::new_spanned(ty, borrowed_message(position))),
        Type::ImplTrait(_) => errors.push(syn::Error::new_spanned(
            ty,
            match position {
                Position::Param => {
                    "#[task] functions cannot be generic: `impl Trait` in argument position makes the function \
                     generic; use concrete owned types"
                }
                Position::Return => {
                    "#[task] functions cannot return `impl Trait`: the output is sent between processes, so it \
                     needs a concrete owned type"
                }
            },
        )),
        Type::Array(array) => check(&array.elem, position, errors),
        Type::Slice(slice) => check(&slice.elem, position, errors),
        Type::Group(group) => check(&group.elem, position, errors),
        Type::Paren(paren) => check(&paren.elem, position, errors),
        Type::Ptr(ptr) => check(&ptr.elem, position, errors),
        Type::Tuple(tuple) => tuple.elems.iter().for_each(|elem| check(elem, position, errors)),
        Type::Path(path) => {
            if let Some(qself) = &path.qself {
                check(&qself.ty, position, errors);
            }
            if path.qself.is_none() && path.path.segments.first().is_some_and(|s| s.ident == "Self") {
                errors.push(syn::Error::new_spanned(
                    ty,
                    "`Self` is not available in a #[task] function: it must be a free function",
                ));
            }
            for segment in &path.path.segments {
                check_arguments(&segment.arguments, position, errors);
            }
        }
        Type::TraitObject(object) => {
            for bound in &object.bounds {
                if let TypeParamBound::Lifetime(lifetime) = bound {
                    check_lifetime(lifetime, position, errors);
                }
            }
        }
        // Function pointers only have higher-ranked lifetimes; macros cannot be inspected; the
        // rest either has nothing to check or is rejected by the compiler.
        _ => {}
    }
}

/// Checks the return type, if any.
pub(crate) fn check_return(output: &ReturnType, errors: &mut Vec<syn::Error>) {
    if let ReturnType::Type(_, ty) = output {
        check(ty, Position::Return, errors);
    }
}

fn check_arguments(arguments: &PathArguments, position: Position, errors: &mut Vec<syn::Error>) {
    match arguments {
        PathArguments::None => {}
        PathArguments::AngleBracketed(args) => {
            for arg in &args.args {
                match arg {
                    GenericArgument::Lifetime(lifetime) => check_lifetime(lifetime, position, errors),
                    GenericArgument::Type(ty) => check(ty, position, errors),
                    GenericArgument::AssocType(assoc) => check(&assoc.ty, position, errors),
                    _ => {}
                }
            }
        }
        PathArguments::Parenthesized(args) => {
            args.inputs.iter().for_each(|input| check(input, position, errors));
            check_return(&args.output, errors);
        }
    }
}

/// Only `'static` can appear in an owned type; anything else borrows.
fn check_lifetime(lifetime: &Lifetime, position: Position, errors: &mut Vec<syn::Error>) {
    if lifetime.ident != "static" {
        errors.push(syn::Error::new_spanned(lifetime, borrowed_message(position)));
    }
}

/// Whether `ty` is spelled as a primitive integer type, whose literals do not go through `Into`
/// well (an unsuffixed literal falls back to `i32`, which converts into few integer types).
pub(crate) fn is_primitive_integer(ty: &Type) -> bool {
    const INTEGERS: &[&str] = &["u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize"];
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            path.path.get_ident().is_some_and(|ident| INTEGERS.iter().any(|name| ident == name))
        }
        Type::Group(group) => is_primitive_integer(&group.elem),
        Type::Paren(paren) => is_primitive_integer(&paren.elem),
        _ => false,
    }
}
