//! Round-trip benchmark against the real Pebble daemon (filled in below).

fn main() {}
