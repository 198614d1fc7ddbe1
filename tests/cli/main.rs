//! hbmon's one integration-test binary: it runs the real `hbmon` executable against real
//! peers started in the test (an HTTP server, TCP listeners, child processes) on
//! 127.0.0.1. Modules are per feature; `harness` holds the builder and the peers.

mod abuse;
mod api;
mod architecture;
mod check;
mod config_errors;
mod cron_diff;
mod delivery;
mod diagnose;
mod dns;
mod docker;
mod email;
mod faketime;
mod faults;
mod formats;
mod gates;
mod generated;
mod harness;
mod heartbeat;
mod icmp;
mod include;
mod init;
mod notify;
mod oncall;
mod own;
mod page;
mod postgres;
mod probes;
mod regions;
mod reload;
mod schema_corpus;
mod secrets;
mod simulate;
mod tcp;
#[path = "../../src/store/testpg.rs"]
mod testpg;
mod tls;
mod usage;
mod watch;
