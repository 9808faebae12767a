//! Generates the handle type, its `Task` impl, the keyword-argument struct and the registration.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Ident, ItemFn, Path, ReturnType, Type};

use crate::attrs::{path_to_string, TaskOptions};
use crate::parse::{self, Kwarg, TaskFn};
use crate::types::{self, Kind};

/// The whole expansion of `#[task(attr)] item`.
pub(crate) fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    let options = TaskOptions::parse(attr, "task");
    let item: ItemFn = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(error) => {
            let error = syn::Error::new(
                error.span(),
                format!("#[task] can only be applied to a free function (`fn name(...) -> T {{ ... }}`): {error}"),
            );
            let mut out = error.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    match (options, parse::analyze(item.clone())) {
        (Ok(options), Ok(task)) => generate(&options.krate, &task),
        (options, analyzed) => {
            let errors = [options.err(), analyzed.err()].into_iter().flatten().collect();
            let mut out = parse::combine(errors).map(|e| e.to_compile_error()).unwrap_or_default();
            if let Some(fallback) = parse::fallback(item) {
                fallback.to_tokens(&mut out);
            }
            out
        }
    }
}

fn generate(krate: &Path, task: &TaskFn) -> TokenStream {
    let TaskFn { docs, cfgs, body_attrs, vis, ident, params_span, inputs, positional, kwargs, output, block } = task;
    // Let the body inline into the pool's call loop, as a plain loop inlines the function, unless
    // the author chose an `#[inline(..)]` of their own.
    let inline_hint = if body_attrs.iter().any(|a| a.path().is_ident("inline")) { quote!() } else { quote!(#[inline]) };
    let name = ident.unraw().to_string();
    let kwargs_ident = kwargs_struct_ident(ident);
    let output_ty = match output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    let all_types: Vec<&Type> = inputs.iter().map(|input| &*input.ty).collect();
    let kinds = positional.iter().map(|(ty, kind)| kind_tokens(krate, ty, kind));
    // Spanned at the parameter list: an unmet `Task::Params` bound is reported there.
    let params_ty = quote_spanned!(*params_span=> (#(#kinds,)*));

    let borrowed_kwargs = kwargs.iter().any(|kwarg| kwarg.kind.borrows());
    // The kwargs type, what a worker decodes it into, and how it is made from that.
    let (kwargs_ty, kwargs_wire_ty, kwargs_from_wire) = if kwargs.is_empty() {
        (
            quote!(()),
            quote!(()),
            quote!(
                #[inline]
                fn kwargs_from_wire<'a>(_wire: &'a ()) {}
            ),
        )
    } else if borrowed_kwargs {
        let wire_ident = kwargs_wire_ident(&kwargs_ident);
        let views = kwargs.iter().map(|kwarg| {
            let name = &kwarg.ident;
            match &kwarg.kind {
                Kind::Str | Kind::Bytes => quote!(#name: wire.#name),
                Kind::Slice(_) => quote!(#name: ::core::ops::Deref::deref(&wire.#name)),
                Kind::Ref(_) => quote!(#name: &wire.#name),
                Kind::Owned(_) => quote!(#name: ::core::clone::Clone::clone(&wire.#name)),
            }
        });
        let from_wire = quote! {
            #inline_hint
            fn kwargs_from_wire<'a>(wire: &'a #wire_ident<'_>) -> #kwargs_ident<'a> {
                #kwargs_ident { #(#views,)* }
            }
        };
        (quote!(#kwargs_ident<'k>), quote!(#wire_ident<'w>), from_wire)
    } else {
        let from_wire = quote! {
            #inline_hint
            fn kwargs_from_wire<'a>(wire: &'a #kwargs_ident) -> #kwargs_ident {
                ::core::clone::Clone::clone(wire)
            }
        };
        (kwargs_ident.to_token_stream(), kwargs_ident.to_token_stream(), from_wire)
    };
    let kwargs_param = if kwargs.is_empty() { quote!(_kwargs) } else { quote!(kwargs) };
    let kwargs_fn = (!kwargs.is_empty()).then(|| {
        let defaults_ty = if borrowed_kwargs { quote!(#kwargs_ident<'static>) } else { quote!(#kwargs_ident) };
        quote! {
            /// The keyword arguments with their defaults: change them with the setters, bind them
            /// with `Task::with`.
            #[allow(dead_code)]
            #vis fn kwargs() -> #defaults_ty {
                ::core::default::Default::default()
            }
        }
    });
    let kwargs_struct = (!kwargs.is_empty()).then(|| kwargs_struct(krate, task, &kwargs_ident));

    let arg_names: Vec<Ident> = (0..positional.len()).map(|i| format_ident!("__parapool_arg{}", i)).collect();
    // Spanned at the parameter list too: if a parameter breaks the `Params` bound, this use of it
    // reports there, not on the attribute.
    let args_ty = quote_spanned!(*params_span=> #krate::Args<'_, Self>);
    let unpack = quote_spanned!(*params_span=> let (#(#arg_names,)*) = args;);
    let kwarg_fields = kwargs.iter().map(|kwarg| &kwarg.ident);
    let checks = bound_checks(krate, task);
    let output_codec = output_codec(krate, output);

    quote! {
        #(#cfgs)*
        #(#docs)*
        #[allow(non_camel_case_types)]
        #[derive(
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::fmt::Debug,
            ::core::default::Default,
        )]
        #vis struct #ident;

        #(#cfgs)*
        impl #ident {
            #[doc(hidden)]
            #inline_hint
            #(#body_attrs)*
            fn __parapool_body(#(#inputs),*) #output #block

            #kwargs_fn
        }

        #(#cfgs)*
        #[allow(clippy::type_complexity)]
        impl ::core::ops::Deref for #ident {
            type Target = fn(#(#all_types),*) -> #output_ty;
            fn deref(&self) -> &Self::Target {
                const F: fn(#(#all_types),*) -> #output_ty = #ident::__parapool_body;
                &F
            }
        }

        #kwargs_struct

        #(#cfgs)*
        #[allow(clippy::type_complexity)]
        impl #krate::Task for #ident {
            const NAME: &'static str = ::core::concat!(::core::module_path!(), "::", #name);
            type Params = #params_ty;
            type Kwargs<'k> = #kwargs_ty;
            type KwargsWire<'w> = #kwargs_wire_ty;
            type Output = #output_ty;
            #inline_hint
            fn call(args: #args_ty, #kwargs_param: Self::Kwargs<'_>) -> Self::Output {
                #unpack
                #ident::__parapool_body(#(#arg_names,)* #(kwargs.#kwarg_fields),*)
            }
            #kwargs_from_wire
            #output_codec
            #[inline]
            fn shorten_kwargs<'short, 'long: 'short>(kwargs: Self::Kwargs<'long>) -> Self::Kwargs<'short> {
                kwargs
            }
        }

        #(#cfgs)*
        #krate::__private::inventory::submit! {
            #krate::__private::TaskEntry::of::<#ident>()
        }

        #checks
    }
}

/// The `parapool::backend::param` kind of a parameter, spanned at its type.
fn kind_tokens(krate: &Path, ty: &Type, kind: &Kind) -> TokenStream {
    match kind {
        Kind::Str => quote_spanned!(ty.span()=> #krate::backend::param::Str),
        Kind::Bytes => quote_spanned!(ty.span()=> #krate::backend::param::Bytes),
        Kind::Slice(elem) => quote_spanned!(ty.span()=> #krate::backend::param::Slice<#elem>),
        Kind::Ref(referent) => quote_spanned!(ty.span()=> #krate::backend::param::Ref<#referent>),
        Kind::Owned(owned) => quote_spanned!(ty.span()=> #krate::backend::param::Owned<#owned>),
    }
}

/// `CountLettersKwargs` → `__CountLettersKwargsWire`: what a worker decodes borrowed keyword
/// arguments into.
fn kwargs_wire_ident(kwargs_ident: &Ident) -> Ident {
    format_ident!("__{}Wire", kwargs_ident, span = kwargs_ident.span())
}

/// For a function returning a primitive integer, outcome records written and read without serde
/// (the same bytes postcard makes: a varint, zigzagged when signed). Other outputs keep the
/// trait's serde defaults.
fn output_codec(krate: &Path, output: &ReturnType) -> TokenStream {
    let ReturnType::Type(_, ty) = output else { return quote!() };
    let Type::Path(path) = &**ty else { return quote!() };
    let Some(ident) = path.path.get_ident().filter(|_| path.qself.is_none()) else { return quote!() };
    let (to_wire, from_wire) = match ident.to_string().as_str() {
        "usize" | "u64" | "u32" | "u16" => (quote!(*output as u64), quote!(value)),
        "isize" | "i64" | "i32" | "i16" => {
            (quote!(#krate::backend::wire::zigzag(*output as i64)), quote!(#krate::backend::wire::unzigzag(value)))
        }
        _ => return quote!(),
    };
    quote! {
        #[inline]
        #[allow(clippy::unnecessary_cast, clippy::cast_lossless)]
        fn append_output(buffer: &mut ::std::vec::Vec<u8>, output: &Self::Output) {
            #krate::backend::wire::append_varint_outcome(buffer, #to_wire)
        }
        #[inline]
        fn read_output(reader: &mut #krate::backend::wire::Reader<'_>) -> ::core::result::Result<Self::Output, #krate::Error> {
            let value = reader.varint_outcome(<Self as #krate::Task>::NAME)?;
            <#ty as ::core::convert::TryFrom<_>>::try_from(#from_wire).map_err(|_| #krate::Error::Serialization {
                task: ::std::borrow::ToOwned::to_owned(<Self as #krate::Task>::NAME),
                side: #krate::Side::Output,
                message: ::std::string::ToString::to_string("the outcome is out of the range of the task's output type"),
            })
        }
    }
}

/// `count_letters` → `CountLettersKwargs`.
fn kwargs_struct_ident(ident: &Ident) -> Ident {
    let camel: String = ident
        .unraw()
        .to_string()
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|first| first.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
        })
        .collect();
    let camel = if camel.is_empty() { "Task".to_owned() } else { camel };
    format_ident!("{}Kwargs", camel, span = ident.span())
}

/// The type of a keyword argument's field: a reference borrows for `'k`.
fn kwarg_field_ty(kwarg: &Kwarg, lifetime: &TokenStream) -> TokenStream {
    let ty = &kwarg.ty;
    match &kwarg.kind {
        Kind::Str => quote_spanned!(ty.span()=> &#lifetime str),
        Kind::Bytes => quote_spanned!(ty.span()=> &#lifetime [u8]),
        Kind::Slice(elem) => quote_spanned!(ty.span()=> &#lifetime [#elem]),
        Kind::Ref(referent) => quote_spanned!(ty.span()=> &#lifetime #referent),
        Kind::Owned(owned) => owned.to_token_stream(),
    }
}

/// The keyword-argument struct, its `Default`, setters and `From<()>`; and, when a keyword
/// argument borrows, the struct a worker decodes them into.
fn kwargs_struct(krate: &Path, task: &TaskFn, kwargs_ident: &Ident) -> TokenStream {
    let TaskFn { cfgs, vis, ident, kwargs, .. } = task;
    let serde_path = format!("{}::__private::serde", path_to_string(krate));
    let struct_doc = format!("Keyword arguments of [`{}`], with their defaults.", ident.unraw());
    let borrows = kwargs.iter().any(|kwarg| kwarg.kind.borrows());
    let (generics, lifetime) = if borrows { (quote!(<'k>), quote!('k)) } else { (quote!(), quote!()) };

    let fields = kwargs.iter().map(|kwarg| {
        let (name, ty) = (&kwarg.ident, &kwarg.ty);
        let field_ty = kwarg_field_ty(kwarg, &lifetime);
        let doc = match &kwarg.default {
            Some(default) => {
                format!("The `{}` keyword argument (default: `{}`).", name.unraw(), tokens_to_doc(default))
            }
            None => format!("The `{}` keyword argument (default: `Default::default()`).", name.unraw()),
        };
        // Spanned at the type, so that errors from the derives point at the parameter.
        quote_spanned!(ty.span()=> #[doc = #doc] #vis #name: #field_ty)
    });

    let defaults = kwargs.iter().map(|kwarg| {
        let (name, ty) = (&kwarg.ident, &kwarg.ty);
        let field_ty = kwarg_field_ty(kwarg, &lifetime);
        let value = match &kwarg.default {
            None => quote_spanned!(ty.span()=> ::core::default::Default::default()),
            Some(expr) if types::is_primitive_integer(ty) => quote_spanned!(expr.span()=> #expr),
            Some(expr) => quote_spanned!(expr.span()=> ::core::convert::Into::<#field_ty>::into(#expr)),
        };
        quote!(#name: #value)
    });

    let setters = kwargs.iter().map(|kwarg| {
        let (name, ty) = (&kwarg.ident, &kwarg.ty);
        let doc = format!("Sets the `{}` keyword argument.", name.unraw());
        let (param, value) = match &kwarg.kind {
            Kind::Str => (
                quote!(value: &'k (impl ::core::convert::AsRef<str> + ?::core::marker::Sized)),
                quote!(::core::convert::AsRef::<str>::as_ref(value)),
            ),
            Kind::Bytes => (
                quote!(value: &'k (impl ::core::convert::AsRef<[u8]> + ?::core::marker::Sized)),
                quote!(::core::convert::AsRef::<[u8]>::as_ref(value)),
            ),
            Kind::Slice(elem) => (
                quote!(value: &'k (impl ::core::convert::AsRef<[#elem]> + ?::core::marker::Sized)),
                quote!(::core::convert::AsRef::<[#elem]>::as_ref(value)),
            ),
            Kind::Ref(referent) => (
                quote!(value: &'k (impl ::core::borrow::Borrow<#referent> + ?::core::marker::Sized)),
                quote!(::core::borrow::Borrow::<#referent>::borrow(value)),
            ),
            Kind::Owned(_) if types::is_primitive_integer(ty) => (quote!(value: #ty), quote!(value)),
            Kind::Owned(_) => {
                (quote!(value: impl ::core::convert::Into<#ty>), quote!(::core::convert::Into::into(value)))
            }
        };
        quote! {
            #[doc = #doc]
            #[must_use]
            #vis fn #name(mut self, #param) -> Self {
                self.#name = #value;
                self
            }
        }
    });

    // Only an all-owned struct decodes as itself; a borrowing one gets a wire twin below.
    let deserialize = if borrows { quote!() } else { quote!(#krate::__private::serde::Deserialize,) };
    let wire = borrows.then(|| {
        let wire_ident = kwargs_wire_ident(kwargs_ident);
        let wire_fields = kwargs.iter().map(|kwarg| {
            let (name, ty) = (&kwarg.ident, &kwarg.ty);
            let wire_ty = match &kwarg.kind {
                Kind::Str => quote!(&'w str),
                Kind::Bytes => quote!(&'w [u8]),
                Kind::Slice(elem) => quote!(::std::vec::Vec<#elem>),
                Kind::Ref(referent) => referent.to_token_stream(),
                Kind::Owned(owned) => owned.to_token_stream(),
            };
            quote_spanned!(ty.span()=> #name: #wire_ty)
        });
        quote! {
            #(#cfgs)*
            #[doc(hidden)]
            #[allow(non_camel_case_types, dead_code)]
            #[derive(#krate::__private::serde::Deserialize)]
            #[serde(crate = #serde_path)]
            #vis struct #wire_ident<'w> {
                #(#wire_fields,)*
                #[serde(skip)]
                __parapool_borrows: ::core::marker::PhantomData<&'w ()>,
            }
        }
    });

    quote! {
        #(#cfgs)*
        #[doc = #struct_doc]
        #[derive(
            ::core::clone::Clone,
            ::core::fmt::Debug,
            #krate::__private::serde::Serialize,
            #deserialize
        )]
        #[serde(crate = #serde_path)]
        #vis struct #kwargs_ident #generics {
            #(#fields,)*
        }

        #(#cfgs)*
        impl #generics ::core::default::Default for #kwargs_ident #generics {
            fn default() -> Self {
                #kwargs_ident { #(#defaults,)* }
            }
        }

        #(#cfgs)*
        #[allow(dead_code)]
        impl #generics #kwargs_ident #generics {
            #(#setters)*
        }

        #(#cfgs)*
        impl #generics ::core::convert::From<()> for #kwargs_ident #generics {
            fn from((): ()) -> Self {
                ::core::default::Default::default()
            }
        }

        #wire
    }
}

/// One assertion per parameter type that it meets the task bounds, spanned at the type, so that
/// a violation points at the offending parameter instead of into the expansion.
///
/// Bounds that another generated item already reports at the type itself are not repeated: the
/// return type is checked by `type Output = T` in the `Task` impl, and a keyword argument's
/// `Clone`, `Debug` and `Default` by the derives and `Default` impl of the kwargs struct.
fn bound_checks(krate: &Path, task: &TaskFn) -> TokenStream {
    let TaskFn { cfgs, positional, kwargs, .. } = task;
    let serde = quote!(#krate::__private::serde);
    let check = |ty: &Type, kind: &Kind, owned_check: &Ident| match kind {
        Kind::Str | Kind::Bytes => None,
        Kind::Slice(inner) | Kind::Ref(inner) => {
            Some(quote_spanned!(inner.span()=> let _ = __parapool_assert_borrowed::<#inner>;))
        }
        Kind::Owned(_) => Some(quote_spanned!(ty.span()=> let _ = #owned_check::<#ty>;)),
    };
    let arg_check = format_ident!("__parapool_assert_arg");
    let kwarg_check = format_ident!("__parapool_assert_kwarg");
    let positional_checks: Vec<_> = positional.iter().filter_map(|(ty, kind)| check(ty, kind, &arg_check)).collect();
    let kwarg_checks: Vec<_> = kwargs.iter().filter_map(|kwarg| check(&kwarg.ty, &kwarg.kind, &kwarg_check)).collect();
    quote! {
        #(#cfgs)*
        const _: () = {
            #[allow(dead_code)]
            fn __parapool_assert_arg<
                T: #serde::Serialize + #serde::de::DeserializeOwned + ::core::marker::Send + 'static,
            >() {}
            #[allow(dead_code)]
            fn __parapool_assert_kwarg<
                T: #serde::Serialize
                    + #serde::de::DeserializeOwned
                    + ::core::marker::Send
                    + ::core::marker::Sync
                    + 'static,
            >() {}
            #[allow(dead_code)]
            fn __parapool_assert_borrowed<
                T: #serde::Serialize + #serde::de::DeserializeOwned + ::core::marker::Sync + 'static,
            >() {}
            #(#positional_checks)*
            #(#kwarg_checks)*
        };
    }
}

/// An expression as it reads in source, for a doc comment.
fn tokens_to_doc(expr: &syn::Expr) -> String {
    expr.to_token_stream().to_string().replace('`', "'")
}
