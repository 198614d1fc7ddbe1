//! The TCP probe: resolve, then connect; up when a connection opens.

use super::{Outcome, io_reason};
use crate::plan::TcpProbe;
use crate::status::Status;

pub async fn probe(p: &TcpProbe) -> Outcome {
    let addrs = match tokio::net::lookup_host((p.host.as_str(), p.port)).await {
        Ok(a) => a.collect::<Vec<_>>(),
        Err(_) => return Outcome::new(Status::Down, format!("could not resolve `{}`", p.host)),
    };
    let mut last = None;
    for addr in addrs {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(_) => return Outcome::new(Status::Up, format!("connected to {addr}")),
            Err(e) => last = Some(e),
        }
    }
    match last {
        Some(e) => Outcome::new(Status::Down, io_reason(&e)),
        None => Outcome::new(Status::Down, format!("`{}` has no addresses", p.host)),
    }
}
