//! Generates the handle type, its `Task` impl, the keyword-argument struct and the registration.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Ident, ItemFn, Path, ReturnType, Type};

use crate::attrs::{path_to_string, TaskOptions};
use crate::parse::{self, TaskFn};
use crate::types;

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
    // Spanned at the parameter list: an unmet `Task::Args` bound is reported there.
    let args_ty = quote_spanned!(*params_span=> (#(#positional,)*));

    let (kwargs_ty, kwargs_param, kwargs_fn, kwargs_struct) = if kwargs.is_empty() {
        (quote!(()), quote!(_kwargs), None, None)
    } else {
        let kwargs_fn = quote! {
            /// The keyword arguments with their defaults: change them with the setters, bind them
            /// with `Task::with`.
            #[allow(dead_code)]
            #vis fn kwargs() -> #kwargs_ident {
                ::core::default::Default::default()
            }
        };
        let kwargs_struct = kwargs_struct(krate, task, &kwargs_ident);
        (kwargs_ident.to_token_stream(), quote!(kwargs), Some(kwargs_fn), Some(kwargs_struct))
    };

    let arg_names: Vec<Ident> = (0..positional.len()).map(|i| format_ident!("__parapool_arg{}", i)).collect();
    let kwarg_fields = kwargs.iter().map(|kwarg| &kwarg.ident);
    let checks = bound_checks(krate, task);

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
            type Args = #args_ty;
            type Kwargs = #kwargs_ty;
            type Output = #output_ty;
            #inline_hint
            fn call(args: Self::Args, #kwargs_param: Self::Kwargs) -> Self::Output {
                let (#(#arg_names,)*) = args;
                #ident::__parapool_body(#(#arg_names,)* #(kwargs.#kwarg_fields),*)
            }
        }

        #(#cfgs)*
        #krate::__private::inventory::submit! {
            #krate::__private::TaskEntry::of::<#ident>()
        }

        #checks
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

/// The keyword-argument struct, its `Default`, setters and `From<()>`.
fn kwargs_struct(krate: &Path, task: &TaskFn, kwargs_ident: &Ident) -> TokenStream {
    let TaskFn { cfgs, vis, ident, kwargs, .. } = task;
    let serde_path = format!("{}::__private::serde", path_to_string(krate));
    let struct_doc = format!("Keyword arguments of [`{}`], with their defaults.", ident.unraw());

    let fields = kwargs.iter().map(|kwarg| {
        let (name, ty) = (&kwarg.ident, &kwarg.ty);
        let doc = match &kwarg.default {
            Some(default) => {
                format!("The `{}` keyword argument (default: `{}`).", name.unraw(), tokens_to_doc(default))
            }
            None => format!("The `{}` keyword argument (default: `Default::default()`).", name.unraw()),
        };
        // Spanned at the type, so that errors from the derives point at the parameter.
        quote_spanned!(ty.span()=> #[doc = #doc] #vis #name: #ty)
    });

    let defaults = kwargs.iter().map(|kwarg| {
        let (name, ty) = (&kwarg.ident, &kwarg.ty);
        let value = match &kwarg.default {
            None => quote_spanned!(ty.span()=> ::core::default::Default::default()),
            Some(expr) if types::is_primitive_integer(ty) => quote_spanned!(expr.span()=> #expr),
            Some(expr) => quote_spanned!(expr.span()=> ::core::convert::Into::<#ty>::into(#expr)),
        };
        quote!(#name: #value)
    });

    let setters = kwargs.iter().map(|kwarg| {
        let (name, ty) = (&kwarg.ident, &kwarg.ty);
        let doc = format!("Sets the `{}` keyword argument.", name.unraw());
        if types::is_primitive_integer(ty) {
            quote! {
                #[doc = #doc]
                #[must_use]
                #vis fn #name(mut self, value: #ty) -> Self {
                    self.#name = value;
                    self
                }
            }
        } else {
            quote! {
                #[doc = #doc]
                #[must_use]
                #vis fn #name(mut self, value: impl ::core::convert::Into<#ty>) -> Self {
                    self.#name = ::core::convert::Into::into(value);
                    self
                }
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
            #krate::__private::serde::Deserialize,
        )]
        #[serde(crate = #serde_path)]
        #vis struct #kwargs_ident {
            #(#fields,)*
        }

        #(#cfgs)*
        impl ::core::default::Default for #kwargs_ident {
            fn default() -> Self {
                #kwargs_ident { #(#defaults,)* }
            }
        }

        #(#cfgs)*
        #[allow(dead_code)]
        impl #kwargs_ident {
            #(#setters)*
        }

        #(#cfgs)*
        impl ::core::convert::From<()> for #kwargs_ident {
            fn from((): ()) -> Self {
                ::core::default::Default::default()
            }
        }
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
    let positional_checks =
        positional.iter().map(|ty| quote_spanned!(ty.span()=> let _ = __parapool_assert_arg::<#ty>;));
    let kwarg_checks = kwargs.iter().map(|kwarg| {
        let ty = &kwarg.ty;
        quote_spanned!(ty.span()=> let _ = __parapool_assert_kwarg::<#ty>;)
    });
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
            #(#positional_checks)*
            #(#kwarg_checks)*
        };
    }
}

/// An expression as it reads in source, for a doc comment.
fn tokens_to_doc(expr: &syn::Expr) -> String {
    expr.to_token_stream().to_string().replace('`', "'")
}
