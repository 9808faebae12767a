//! `#[parapool::main]`: `parapool::init()` as the first statement of `main`.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ItemFn;

use crate::attrs::TaskOptions;

/// Puts `init()` first in the function's body, so that a re-executed process-backend worker
/// serves there before any of the program's own code runs.
pub(crate) fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    let options = TaskOptions::parse(attr, "parapool::main");
    let function: Result<ItemFn, _> = syn::parse2(item.clone());
    match (options, function) {
        (Ok(options), Ok(mut function)) => {
            let krate = &options.krate;
            function.block.stmts.insert(0, syn::parse_quote!(#krate::init();));
            function.into_token_stream()
        }
        (options, function) => {
            let mut out = TokenStream::new();
            if let Err(error) = options {
                out.extend(error.to_compile_error());
            }
            if let Err(error) = function {
                let message = format!("#[parapool::main] goes on the program's `main` function: {error}");
                out.extend(syn::Error::new(error.span(), message).to_compile_error());
            }
            out.extend(item);
            out
        }
    }
}
