//! Wire formats below the analyzers, read in place: the Internet checksum
//! and the GRE header, shared by the decoder, the engine and the UDP tunnels.
//! (IP, TCP and UDP headers are read with `etherparse` and the engine's
//! own views; what is here is what more than one of them needs.)

pub mod checksum;
pub mod gre;
