//! `Debug` for types that hold a password or hash: it shows the named fields only, so no
//! log line or panic message can print the secret (`debug_without_secrets!`).

/// `debug_without_secrets!(Type { shown, fields })`: a `Debug` showing only those fields.
macro_rules! debug_without_secrets {
    ($type:ident { $($field:ident),* $(,)? }) => {
        /// Never prints the password or hash it holds.
        impl std::fmt::Debug for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($type))
                    $(.field(stringify!($field), &self.$field))*
                    .finish_non_exhaustive()
            }
        }
    };
}
