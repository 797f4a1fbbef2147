//! Ports the charm opens with `open-port` and reads back with `opened-ports`.

use std::fmt;
use std::str::FromStr;

/// A transport protocol of an opened port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
        }
    }
}

/// A port in Juju's text form: `8080/tcp`, `53/udp`, `icmp`, or (only read back from
/// `opened-ports`; Kubernetes models refuse to open ranges) `8000-8999/tcp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Port {
    /// One TCP port.
    Tcp(u16),
    /// One UDP port.
    Udp(u16),
    /// ICMP (no port number).
    Icmp,
    /// A range of ports, both ends included.
    Range {
        /// The protocol of the range.
        protocol: Protocol,
        /// First port.
        from: u16,
        /// Last port.
        to: u16,
    },
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(p) => write!(f, "{p}/tcp"),
            Self::Udp(p) => write!(f, "{p}/udp"),
            Self::Icmp => f.write_str("icmp"),
            Self::Range { protocol, from, to } => {
                write!(f, "{from}-{to}/{}", protocol.as_str())
            }
        }
    }
}

impl FromStr for Port {
    type Err = String;

    /// Parses `opened-ports` entries (lower-case, as Juju prints them).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "icmp" {
            return Ok(Self::Icmp);
        }
        let (range, protocol) = s
            .split_once('/')
            .ok_or_else(|| format!("port {s:?} has no /<protocol>"))?;
        let protocol = match protocol {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            other => return Err(format!("port {s:?} has unknown protocol {other:?}")),
        };
        let number = |p: &str| {
            p.parse::<u16>()
                .map_err(|_| format!("port {s:?}: {p:?} is not a port number"))
        };
        Ok(match range.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (number(from)?, number(to)?);
                if from == to {
                    single(protocol, from)
                } else {
                    Self::Range { protocol, from, to }
                }
            }
            None => single(protocol, number(range)?),
        })
    }
}

fn single(protocol: Protocol, port: u16) -> Port {
    match protocol {
        Protocol::Tcp => Port::Tcp(port),
        Protocol::Udp => Port::Udp(port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_round_trip_through_text() {
        for text in ["8080/tcp", "53/udp", "icmp", "8000-8999/udp"] {
            let port: Port = text.parse().unwrap();
            assert_eq!(port.to_string(), text);
        }
        assert_eq!("80-80/tcp".parse::<Port>().unwrap(), Port::Tcp(80));
    }

    #[test]
    fn bad_ports_are_refused() {
        for bad in ["8080", "8080/sctp", "x/tcp", "70000/tcp", "1-2-3/tcp"] {
            assert!(bad.parse::<Port>().is_err(), "{bad} accepted");
        }
    }
}
