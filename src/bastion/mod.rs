//! The bastion: the console's own ssh session into the private subnets (russh, in-process),
//! with strict host keys, tunnels that outlive a dropped session, and jump shells.
//!
//! Like a source, it runs as tasks and reports to the app; the app never awaits it.

/// `AsyncWrite` for a wrapper that writes through its field `$field` unchanged: the streams the
/// sessions ride on (a ProxyCommand's pipes, a channel hyper pools, the bastion's TCP) differ
/// in how they read, not in how they write.
macro_rules! write_through {
    ($ty:ty, $field:tt) => {
        impl tokio::io::AsyncWrite for $ty {
            fn poll_write(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                tokio::io::AsyncWrite::poll_write(std::pin::Pin::new(&mut self.$field), cx, buf)
            }

            fn poll_flush(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                tokio::io::AsyncWrite::poll_flush(std::pin::Pin::new(&mut self.$field), cx)
            }

            fn poll_shutdown(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                tokio::io::AsyncWrite::poll_shutdown(std::pin::Pin::new(&mut self.$field), cx)
            }

            fn poll_write_vectored(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                tokio::io::AsyncWrite::poll_write_vectored(
                    std::pin::Pin::new(&mut self.$field),
                    cx,
                    bufs,
                )
            }

            fn is_write_vectored(&self) -> bool {
                tokio::io::AsyncWrite::is_write_vectored(&self.$field)
            }
        }
    };
}

pub mod auth;
pub mod aws_http;
pub mod destination;
pub mod error;
pub mod exec;
pub mod known_hosts;
pub mod link;
pub mod openssh;
pub mod prompt;
pub mod proxy;
mod quickack;
pub mod remote;
pub mod service;
pub mod session;
pub mod shell;
pub mod tunnel;

pub use prompt::{Ask, Prompter, Question, Secret};
pub use service::{BastionHandle, Command, Report};
