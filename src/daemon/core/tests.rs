//! The daemon's decisions under a virtual clock: each test builds a core from a
//! configuration, feeds it events at chosen instants, and reads the batch it would commit.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use super::{Core, Now, Start, Stored, UpstreamPing};
use crate::daemon::alerts::Alerts;
use crate::daemon::writer::{FromStore, Remote};
use crate::heartbeat::{Kind, Pings};
use crate::observation::ObservationRow;
use crate::status::Status;
use crate::store::{Batch, RegionRow};

const S: Duration = Duration::from_secs(1);

/// A clock that only moves when told.
struct Clock {
    wall: SystemTime,
    mono: Instant,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            // 2026-06-01T00:00:00Z: a plain night, no DST change.
            wall: std::time::UNIX_EPOCH + Duration::from_secs(1_780_272_000),
            mono: Instant::now(),
        }
    }

    fn now(&self) -> Now {
        Now {
            wall: self.wall,
            mono: self.mono,
        }
    }

    fn advance(&mut self, by: Duration) -> Now {
        self.wall += by;
        self.mono += by;
        self.now()
    }
}

fn plan(yaml: &str) -> crate::model::Plan {
    let loaded =
        crate::config::load::load_str("t.yaml".into(), ".".into(), yaml.to_owned(), &|_| None);
    match crate::plan::build(loaded) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

/// A core for `monitors` (YAML list items), with a `chat` webhook every monitor notifies.
fn core_with(extra: &str, monitors: &str, leading: bool, region: &str, at: SystemTime) -> Core {
    restarted(extra, monitors, leading, region, Stored::default(), at)
}

/// `core_with`, starting from what a previous run stored.
fn restarted(
    extra: &str,
    monitors: &str,
    leading: bool,
    region: &str,
    stored: Stored,
    at: SystemTime,
) -> Core {
    let mut p = plan(&format!(
        "version: 1\n{extra}notifiers:\n  chat: {{ type: webhook, url: \"http://127.0.0.1:9/chat\" }}\ndefaults: {{ notify: [chat] }}\nmonitors:\n{monitors}"
    ));
    Core::new(
        std::mem::take(&mut p.monitors),
        Alerts::new(std::mem::take(&mut p.notifications)),
        p.regions.clone(),
        match &p.upstream {
            None => UpstreamPing::Off,
            Some(u) if u.only_when_online => UpstreamPing::WhenOnline,
            Some(_) => UpstreamPing::Always,
        },
        stored,
        leading,
        region.into(),
        at,
    )
}

fn core(monitors: &str, clock: &Clock) -> Core {
    core_with("", monitors, true, "default", clock.wall)
}

/// Commit the core's batch into `stored`, as the writer does: the states, the pings, and
/// when each monitor was first written (`monitor_state.first_seen`: its first observation).
fn commit(core: &mut Core, stored: &mut Stored) -> Vec<(String, &'static str)> {
    let Some((batch, _)) = core.take_batch() else {
        return Vec::new();
    };
    for (name, change) in &batch.states {
        if let Some(latest) = &change.latest {
            stored.first_seen.entry(name.clone()).or_insert(latest.at);
        }
        stored.states.insert(name.clone(), change.state.clone());
    }
    stored.pings.extend(batch.heartbeats.clone());
    names(&batch)
}

fn copy(stored: &Stored) -> Stored {
    Stored {
        states: stored.states.clone(),
        pings: stored.pings.clone(),
        first_seen: stored.first_seen.clone(),
    }
}

/// Run what is due, completing every probe it starts with `status`; how many ran.
fn tick(core: &mut Core, now: Now, status: Status) -> usize {
    let mut ran = 0;
    for start in core.tick(now) {
        if let Start::Probe(run) = start {
            core.observe(row(&run.monitor.name, now.wall, status));
            ran += 1;
        }
    }
    ran
}

/// Bring every probed monitor up first: one found failing when watching begins is
/// recorded as found down, not alerted.
fn up_first(core: &mut Core, clock: &mut Clock) {
    probe_round(core, clock, Status::Up);
    let _ = core.take_batch();
    clock.advance(S);
}

/// Move the clock a second at a time until probes run (their first run is spread over
/// their interval), completing them with `status`.
fn probe_round(core: &mut Core, clock: &mut Clock, status: Status) {
    for _ in 0..600 {
        if tick(core, clock.now(), status) > 0 {
            return;
        }
        clock.advance(S);
    }
    panic!("no probe ran within 10 minutes");
}

fn row(monitor: &str, at: SystemTime, status: Status) -> ObservationRow {
    ObservationRow {
        monitor: monitor.into(),
        at,
        scheduled: Some(at),
        status,
        latency: Duration::ZERO,
        reason: format!("{} by test", status.name()),
        details: None,
        region: "default".into(),
    }
}

/// The events recorded since the last call, as `(monitor, event name)`.
fn events(core: &mut Core) -> Vec<(String, &'static str)> {
    let Some((batch, _)) = core.take_batch() else {
        return Vec::new();
    };
    names(&batch)
}

fn names(batch: &Batch) -> Vec<(String, &'static str)> {
    batch
        .events
        .iter()
        .map(|e| {
            let kind = crate::notify::event_name(crate::notify::kind_of(&e.event));
            (e.monitor.clone(), kind)
        })
        .collect()
}

fn ping(core: &mut Core, monitor: &str, kind: Kind, at: SystemTime) {
    core.on_ping(crate::listen::Ping {
        monitor: monitor.into(),
        kind,
        at,
        rid: None,
        body: String::new(),
        source: None,
        stored: None,
    });
}

#[test]
fn a_silent_heartbeat_is_down_when_its_grace_ends_not_before() {
    let mut clock = Clock::new();
    let mut c = core(
        "  - { name: backup, heartbeat: { period: 1h, grace: 10m } }\n",
        &clock,
    );
    tick(&mut c, clock.now(), Status::Up);
    // Late but inside its grace: the `late` event, which no notifier gets by default.
    let now = clock.advance(61 * 60 * S);
    tick(&mut c, now, Status::Up);
    let seen = events(&mut c);
    assert!(!seen.iter().any(|(_, e)| *e == "down"), "{seen:?}");
    let now = clock.advance(10 * 60 * S);
    tick(&mut c, now, Status::Up);
    let (batch, _) = c.take_batch().expect("a batch");
    assert_eq!(
        names(&batch),
        [("backup".to_owned(), "down")],
        "down when the grace ends"
    );
    assert_eq!(batch.outbox.len(), 1, "one alert, to chat");
}

#[test]
fn a_restart_neither_ends_a_silent_heartbeats_outage_nor_gives_it_a_new_period() {
    let hb = "  - { name: backup, heartbeat: { period: 1h, grace: 10m } }\n";
    let mut clock = Clock::new();
    let mut stored = Stored::default();
    let mut c = restarted("", hb, true, "default", Stored::default(), clock.wall);
    tick(&mut c, clock.now(), Status::Up);
    commit(&mut c, &mut stored);
    // Restarted 50 minutes in: the first ping is still due an hour after watching began.
    let now = clock.advance(50 * 60 * S);
    let mut c = restarted("", hb, true, "default", copy(&stored), now.wall);
    tick(&mut c, now, Status::Up);
    assert!(commit(&mut c, &mut stored).is_empty());
    let now = clock.advance(21 * 60 * S);
    tick(&mut c, now, Status::Up);
    assert_eq!(
        commit(&mut c, &mut stored),
        [("backup".to_owned(), "down")],
        "down 70 minutes after watching began, not after the restart"
    );
    // Restarted during the outage: still down, no recovery alert, nothing new.
    let now = clock.advance(10 * 60 * S);
    let mut c = restarted("", hb, true, "default", copy(&stored), now.wall);
    for _ in 0..3 {
        let now = clock.advance(60 * S);
        tick(&mut c, now, Status::Up);
        assert_eq!(
            commit(&mut c, &mut stored),
            [],
            "no alert after the restart"
        );
    }
    assert_eq!(
        stored.states["backup"].status,
        Some(Status::Down),
        "still down"
    );
    // Its first ping ends the outage.
    ping(&mut c, "backup", Kind::Success, clock.advance(S).wall);
    assert_eq!(commit(&mut c, &mut stored), [("backup".to_owned(), "up")]);
}

#[test]
fn a_ping_in_time_keeps_a_heartbeat_up_and_a_failure_ping_takes_it_down_at_once() {
    let mut clock = Clock::new();
    let mut c = core(
        "  - { name: backup, heartbeat: { period: 1h, grace: 10m } }\n",
        &clock,
    );
    let now = clock.advance(50 * 60 * S);
    ping(&mut c, "backup", Kind::Success, now.wall);
    let now = clock.advance(25 * 60 * S);
    tick(&mut c, now, Status::Up);
    assert!(events(&mut c).is_empty());
    let now = clock.advance(S);
    ping(&mut c, "backup", Kind::Fail, now.wall);
    assert_eq!(events(&mut c), [("backup".to_owned(), "down")]);
}

#[test]
fn an_ack_is_recorded_with_its_alert_and_a_lapsed_or_needless_one_is_refused() {
    let mut clock = Clock::new();
    let mut c = core(
        "  - { name: web, interval: 10s, failure_threshold: 1, tcp: { host: 127.0.0.1, port: 9 } }\n",
        &clock,
    );
    let ack = |until: Option<SystemTime>| crate::listen::Ack {
        monitor: "web".into(),
        who: "ops".into(),
        note: "on it".into(),
        until,
        opened_at: None,
    };
    let err = c.acknowledge(ack(None), clock.wall).unwrap_err();
    assert!(err.contains("cannot acknowledge `web`"), "{err}");
    up_first(&mut c, &mut clock);
    probe_round(&mut c, &mut clock, Status::Down);
    assert_eq!(events(&mut c), [("web".to_owned(), "down")]);
    let now = clock.advance(5 * S);
    let err = c.acknowledge(ack(Some(now.wall)), now.wall).unwrap_err();
    assert_eq!(err, "the acknowledgment had already lapsed");
    let acked = c.acknowledge(ack(None), now.wall).expect("acknowledged");
    assert_eq!(acked.by, "ops");
    let (batch, _) = c.take_batch().expect("a batch");
    assert_eq!(names(&batch), [("web".to_owned(), "acknowledged")]);
    assert_eq!(batch.acked.len(), 1);
    assert_eq!(batch.outbox.len(), 1, "the acknowledged alert, to chat");
}

#[test]
fn a_stored_ack_request_is_answered_in_the_same_batch() {
    let mut clock = Clock::new();
    let mut c = core(
        "  - { name: web, interval: 10s, failure_threshold: 1, tcp: { host: 127.0.0.1, port: 9 } }\n",
        &clock,
    );
    let request = |id| crate::store::AckRequest {
        id,
        monitor: "web".into(),
        who: "cli".into(),
        note: String::new(),
        until: None,
        opened_at: None,
    };
    c.on_store(FromStore::Ack(request(1)), clock.now());
    let refused = c.take_batch().expect("the refusal").0;
    assert_eq!(refused.ack_outcomes.len(), 1);
    up_first(&mut c, &mut clock);
    probe_round(&mut c, &mut clock, Status::Down);
    let now = clock.advance(S);
    c.on_store(FromStore::Ack(request(2)), now);
    let (batch, _) = c.take_batch().expect("a batch");
    let outcomes: Vec<(i64, bool)> = batch
        .ack_outcomes
        .iter()
        .map(|a| {
            (
                a.request,
                a.outcome == crate::store::AckOutcome::Acknowledged,
            )
        })
        .collect();
    assert_eq!(outcomes, [(2, true)]);
    assert_eq!(
        names(&batch),
        [
            ("web".to_owned(), "down"),
            ("web".to_owned(), "acknowledged")
        ]
    );
}

#[test]
fn promotion_keeps_the_later_of_the_stored_and_the_received_pings() {
    let mut clock = Clock::new();
    let mut c = core_with(
        "",
        "  - { name: early, heartbeat: { period: 1h } }\n  - { name: late, heartbeat: { period: 1h } }\n",
        false,
        "default",
        clock.wall,
    );
    let t1 = clock.advance(60 * S).wall;
    let t2 = clock.advance(60 * S).wall;
    // This standby heard `early` at t2 and `late` at t1; the leader had committed the
    // other way round.
    ping(&mut c, "early", Kind::Success, t2);
    ping(&mut c, "late", Kind::Success, t1);
    assert!(
        c.take_batch().unwrap().0.heartbeats.is_empty(),
        "a standby does not write what the pings say"
    );
    let stored = |at| {
        let mut p = Pings::default();
        p.record(Kind::Success, at, "");
        p
    };
    let pings = HashMap::from([
        ("early".to_owned(), stored(t1)),
        ("late".to_owned(), stored(t2)),
    ]);
    c.on_store(
        FromStore::Promoted(Box::new(Stored {
            pings,
            ..Stored::default()
        })),
        clock.now(),
    );
    assert!(c.leading());
    let (batch, _) = c.take_batch().expect("a batch");
    assert_eq!(batch.heartbeats.len(), 1, "only the newer ping is written");
    assert_eq!(batch.heartbeats["early"].last_finish, Some(t2));
    assert_eq!(c.pings["late"].last_finish, Some(t2));
}

#[test]
fn a_standby_records_its_observations_and_alerts_nothing() {
    let mut clock = Clock::new();
    let mut c = core_with(
        "",
        "  - { name: web, interval: 10s, failure_threshold: 1, tcp: { host: 127.0.0.1, port: 9 } }\n",
        false,
        "default",
        clock.wall,
    );
    probe_round(&mut c, &mut clock, Status::Down);
    clock.advance(S);
    probe_round(&mut c, &mut clock, Status::Down);
    let (batch, _) = c.take_batch().expect("a batch");
    assert_eq!(batch.observations.len(), 2);
    assert!(batch.events.is_empty() && batch.outbox.is_empty());
}

#[test]
fn without_a_quorum_nothing_opens_and_with_one_the_incident_does() {
    let mut clock = Clock::new();
    let mut c = core_with(
        "regions: { expected: [a, b, c], quorum: 2, silent_after: 1h }\n",
        "  - { name: web, interval: 10s, failure_threshold: 1, tcp: { host: 127.0.0.1, port: 9 } }\n",
        true,
        "a",
        clock.wall,
    );
    // Region a probes web here; region b's views come from the store.
    let seen_from = |c: &mut Core, clock: &mut Clock, status: Status| {
        let now = clock.advance(S);
        let mut b = row("web", now.wall, status);
        b.region = "b".into();
        c.on_store(
            FromStore::Remote(Box::new(Remote {
                observations: vec![b],
                pings: Vec::new(),
                regions: None,
                read: now.mono,
            })),
            now,
        );
    };
    let here = |c: &mut Core, clock: &mut Clock, status: Status| {
        let now = clock.advance(S);
        let mut a = row("web", now.wall, status);
        a.region = "a".into();
        c.observe(a);
        events(c)
    };
    seen_from(&mut c, &mut clock, Status::Up);
    assert!(here(&mut c, &mut clock, Status::Up).is_empty());
    assert_eq!(
        c.engine().state("web").and_then(|s| s.status),
        Some(Status::Up)
    );
    // a alone says down: 1 of 3 regions is no quorum, nothing opens.
    assert!(here(&mut c, &mut clock, Status::Down).is_empty());
    assert_eq!(
        c.engine().state("web").and_then(|s| s.status),
        Some(Status::Up)
    );
    // b agrees: the next observation is confirmed.
    seen_from(&mut c, &mut clock, Status::Down);
    assert_eq!(
        here(&mut c, &mut clock, Status::Down),
        [("web".to_owned(), "down")]
    );
}

#[test]
fn a_region_is_silent_after_its_silence_and_not_judged_while_the_store_is_unread() {
    let mut clock = Clock::new();
    let mut c = core_with(
        "regions: { expected: [a, b], silent_after: 1m }\n",
        "  - { name: web, interval: 10s, tcp: { host: 127.0.0.1, port: 9 } }\n",
        true,
        "a",
        clock.wall,
    );
    let report = |c: &mut Core, now: Now, age: Duration| {
        c.on_store(
            FromStore::Remote(Box::new(Remote {
                observations: Vec::new(),
                pings: Vec::new(),
                regions: Some(vec![RegionRow {
                    region: "b".into(),
                    instance: "host:1:0#1".into(),
                    age,
                }]),
                read: now.mono,
            })),
            now,
        );
    };
    let region_b = |c: &mut Core, now: Now| {
        tick(c, now, Status::Up);
        let batch = c.take_batch().map(|(b, _)| b).unwrap_or_default();
        let events = names(&batch);
        let row = batch
            .observations
            .into_iter()
            .rfind(|o| o.monitor == "region:b");
        (row.map(|o| (o.status, o.reason)), events)
    };
    report(&mut c, clock.now(), 5 * S);
    let (seen, _) = region_b(&mut c, clock.now());
    let (status, reason) = seen.expect("region b judged");
    assert_eq!(status, Status::Up, "{reason}");
    // The store read again: b's last report is now 70 s old.
    let now = clock.advance(65 * S);
    report(&mut c, now, 70 * S);
    let now = clock.advance(S);
    let (seen, events) = region_b(&mut c, now);
    let (status, reason) = seen.expect("region b judged");
    assert_eq!(status, Status::Down, "{reason}");
    assert!(reason.starts_with("region b silent"), "{reason}");
    assert!(
        events.contains(&("region:b".to_owned(), "down")),
        "{events:?}"
    );
    // The store unread for longer than half the silence: b is not judged at all.
    let now = clock.advance(60 * S);
    let (seen, _) = region_b(&mut c, now);
    assert!(seen.is_none(), "{seen:?}");
}

#[test]
fn escalation_fires_when_its_time_comes_and_not_for_an_acknowledged_outage() {
    let mut clock = Clock::new();
    let mut p = plan(
        "version: 1\nnotifiers:\n  chat: { type: webhook, url: \"http://127.0.0.1:9/chat\" }\n  oncall: { type: webhook, url: \"http://127.0.0.1:9/oncall\" }\nmonitors:\n  - { name: web, interval: 10s, failure_threshold: 1, tcp: { host: 127.0.0.1, port: 9 }, notify: [chat, { after: 1m, notify: [oncall] }] }\n  - { name: api, interval: 10s, failure_threshold: 1, tcp: { host: 127.0.0.1, port: 9 }, notify: [chat, { after: 1m, notify: [oncall] }] }\n",
    );
    let mut c = Core::new(
        std::mem::take(&mut p.monitors),
        Alerts::new(std::mem::take(&mut p.notifications)),
        p.regions.clone(),
        UpstreamPing::Off,
        Stored::default(),
        true,
        "default".into(),
        clock.wall,
    );
    up_first(&mut c, &mut clock);
    let mut seen = Vec::new();
    for _ in 0..20 {
        if seen.len() >= 2 {
            break;
        }
        probe_round(&mut c, &mut clock, Status::Down);
        seen.extend(events(&mut c));
        clock.advance(S);
    }
    seen.sort();
    assert_eq!(seen, [("api".into(), "down"), ("web".into(), "down")]);
    let now = clock.advance(5 * S);
    c.acknowledge(
        crate::listen::Ack {
            monitor: "api".into(),
            who: "ops".into(),
            note: String::new(),
            until: None,
            opened_at: None,
        },
        now.wall,
    )
    .expect("acknowledged");
    let _ = c.take_batch();
    let mut escalated = Vec::new();
    for _ in 0..90 {
        let now = clock.advance(S);
        tick(&mut c, now, Status::Down);
        escalated.extend(
            events(&mut c)
                .into_iter()
                .filter(|(_, e)| *e == "escalated")
                .map(|(m, _)| (m, now.wall)),
        );
    }
    assert_eq!(escalated.len(), 1, "{escalated:?}");
    assert_eq!(escalated[0].0, "web");
    let waited = escalated[0]
        .1
        .duration_since(c.engine().state("web").unwrap().announced_down().unwrap());
    let waited = waited.unwrap();
    assert!(
        waited >= 60 * S && waited < 61 * S,
        "escalated when its minute is up, not {waited:?} after the outage"
    );
}

#[test]
fn a_reload_forgets_removed_monitors_and_starts_new_heartbeats_from_then() {
    let mut clock = Clock::new();
    let mut c = core(
        "  - { name: web, interval: 10s, failure_threshold: 1, tcp: { host: 127.0.0.1, port: 9 } }\n",
        &clock,
    );
    up_first(&mut c, &mut clock);
    probe_round(&mut c, &mut clock, Status::Down);
    assert_eq!(events(&mut c), [("web".to_owned(), "down")]);
    let now = clock.advance(2 * 3600 * S);
    let mut p = plan(
        "version: 1\nnotifiers:\n  chat: { type: webhook, url: \"http://127.0.0.1:9/chat\" }\ndefaults: { notify: [chat] }\nmonitors:\n  - { name: backup, heartbeat: { period: 1h, grace: 1m } }\n",
    );
    let reloaded = c.reload(
        std::mem::take(&mut p.monitors),
        Alerts::new(std::mem::take(&mut p.notifications)),
        p.regions.clone(),
        UpstreamPing::Off,
        now.wall,
    );
    assert_eq!(reloaded.forget, ["web"]);
    assert_eq!((reloaded.added, reloaded.removed), (1, 1));
    // Two hours after watching began, but only just brought in: not late.
    tick(&mut c, now, Status::Up);
    assert!(events(&mut c).is_empty());
    let now = clock.advance(3600 * S + S);
    tick(&mut c, now, Status::Up);
    assert_eq!(events(&mut c), [("backup".to_owned(), "late")]);
    let now = clock.advance(60 * S);
    tick(&mut c, now, Status::Up);
    assert_eq!(events(&mut c), [("backup".to_owned(), "down")]);
}

#[test]
fn the_wall_clock_going_back_reschedules_instead_of_waiting_for_the_old_times() {
    let mut clock = Clock::new();
    let mut c = core(
        "  - { name: web, interval: 1m, failure_threshold: 1, tcp: { host: 127.0.0.1, port: 9 } }\n",
        &clock,
    );
    let started = |c: &mut Core, now: Now| {
        c.tick(now)
            .into_iter()
            .filter(|s| matches!(s, Start::Probe(_)))
            .count()
    };
    for _ in 0..60 {
        if started(&mut c, clock.now()) > 0 {
            break;
        }
        clock.advance(S);
    }
    c.observe(row("web", clock.wall, Status::Up));
    // The clock is set back an hour: the next run is due within a minute of the new
    // time, not an hour and a minute from now.
    clock.wall -= 3600 * S;
    let mut ran = 0;
    for _ in 0..61 {
        ran += started(&mut c, clock.now());
        clock.advance(S);
    }
    assert!(ran >= 1, "no run within a minute of the clock going back");
}

/// `only_when_online`: while hbmon's own network is down, the upstream ping is not sent
/// (the upstream notices its absence; `hbmon:upstream` does not fail and alert); it
/// resumes when the network is back.
#[test]
fn an_upstream_ping_only_when_online_waits_out_an_outage() {
    let mut clock = Clock::new();
    let mut c = core_with(
        "connectivity: { targets: [\"127.0.0.1:9\"], every: 1s }\nupstream: { url: \"http://127.0.0.1:9/up\", every: 1s, only_when_online: true }\n",
        "  - { name: web, interval: 1s, timeout: 1s, tcp: { host: 127.0.0.1, port: 9 } }\n",
        true,
        "default",
        clock.wall,
    );
    // Ten seconds with the network `network`; how many upstream pings were started.
    let mut seconds = |c: &mut Core, network: Status| {
        let mut pings = 0;
        for _ in 0..10 {
            let now = clock.advance(S);
            for start in c.tick(now) {
                match start {
                    Start::Probe(run) => {
                        let status = if run.monitor.name == crate::model::NETWORK_MONITOR {
                            network
                        } else {
                            Status::Up
                        };
                        c.observe(row(&run.monitor.name, now.wall, status));
                    }
                    Start::Upstream { .. } => {
                        pings += 1;
                        c.abandon(crate::model::UPSTREAM_MONITOR);
                    }
                }
            }
        }
        pings
    };
    assert!(seconds(&mut c, Status::Up) > 0, "pings while online");
    let _ = seconds(&mut c, Status::Down);
    assert_eq!(seconds(&mut c, Status::Down), 0, "no ping while offline");
    assert!(seconds(&mut c, Status::Up) > 0, "pings again once online");
}

#[test]
fn a_confirmed_outage_asks_for_its_diagnosis_once_and_nothing_else_does() {
    let mut clock = Clock::new();
    let mut c = core(
        "  - { name: web, interval: 10s, failure_threshold: 2, tcp: { host: 127.0.0.1, port: 9 }, \
         diagnose: { command: [sh, -c, 'echo hi'], timeout: 5s } }\n  \
         - { name: db, interval: 10s, failure_threshold: 1, tcp: { host: 127.0.0.1, port: 9 } }\n",
        &clock,
    );
    up_first(&mut c, &mut clock);
    // Degraded is not an outage; neither is the first failure below the threshold.
    let now = clock.advance(10 * S);
    c.observe(row("web", now.wall, Status::Degraded));
    c.observe(row("web", now.wall, Status::Down));
    assert!(c.take_diagnoses().is_empty());
    // Confirmed: the down event and one diagnosis for its incident; db has none.
    let now = clock.advance(10 * S);
    c.observe(row("web", now.wall, Status::Down));
    c.observe(row("db", now.wall, Status::Down));
    let runs = c.take_diagnoses();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(
        (runs[0].monitor.as_str(), runs[0].reason.as_str()),
        ("web", "down by test")
    );
    assert!(runs[0].incident.starts_with("web-"), "{}", runs[0].incident);
    assert_eq!(runs[0].diagnose.timeout, 5 * S);
    let seen = events(&mut c);
    assert!(seen.contains(&("web".to_owned(), "down")), "{seen:?}");
    // Still down: no second diagnosis for the same outage.
    let now = clock.advance(10 * S);
    c.observe(row("web", now.wall, Status::Down));
    assert!(c.take_diagnoses().is_empty());
}

#[test]
fn a_standby_runs_no_diagnosis() {
    let clock = Clock::new();
    let mut c = core_with(
        "",
        "  - { name: web, interval: 10s, failure_threshold: 1, tcp: { host: 127.0.0.1, port: 9 }, \
         diagnose: { command: [sh, -c, 'echo hi'] } }\n",
        false,
        "default",
        clock.wall,
    );
    c.observe(row("web", clock.wall, Status::Down));
    assert!(c.take_diagnoses().is_empty());
}

#[test]
fn a_diagnosis_follows_the_down_alert_to_its_notifiers_only_while_the_outage_is_open() {
    let mut clock = Clock::new();
    let mut c = core_with(
        "",
        "  - { name: web, interval: 10s, failure_threshold: 1, tcp: { host: 127.0.0.1, port: 9 }, \
         diagnose: { command: [sh, -c, 'echo hi'], timeout: 5s } }\n",
        true,
        "default",
        clock.wall,
    );
    up_first(&mut c, &mut clock);
    let now = clock.advance(10 * S);
    c.observe(row("web", now.wall, Status::Down));
    let run = c.take_diagnoses().remove(0);
    let _ = c.take_batch();
    let found = |output: &str| crate::observation::Diagnosis {
        output: output.into(),
        exit_code: Some(3),
        duration: 2 * S,
        timed_out: false,
        problem: None,
    };
    // Finished while web is still down: a `diagnosis` alert to chat, with the output,
    // recorded against the same incident in the same batch as its outbox entry.
    let now = clock.advance(2 * S);
    assert!(c.diagnosed(&run, found("pool exhausted"), now.wall));
    let (batch, _) = c.take_batch().expect("a batch");
    assert_eq!(names(&batch), [("web".to_owned(), "diagnosis")]);
    assert!(matches!(
        &batch.events[0].event,
        crate::state::Event::Diagnosed { opened_at, .. } if *opened_at == run.opened_at
    ));
    assert_eq!(batch.outbox.len(), 1);
    assert_eq!(batch.outbox[0].notifier, "chat");
    let msg = &batch.outbox[0].message;
    assert_eq!(msg.event, "diagnosis");
    assert!(msg.text.contains("pool exhausted"), "{}", msg.text);
    assert!(msg.text.contains("exit code 3"), "{}", msg.text);
    assert!(msg.text.contains("down by test"), "{}", msg.text);
    // Once web has recovered, a late diagnosis of that outage is not sent.
    let now = clock.advance(10 * S);
    c.observe(row("web", now.wall, Status::Up));
    let _ = c.take_batch();
    assert!(!c.diagnosed(&run, found("late"), clock.advance(S).wall));
    assert!(c.take_batch().is_none_or(|(b, _)| b.outbox.is_empty()));
}

#[test]
fn a_monitor_joining_a_running_watch_is_alerted_when_found_down_unlike_a_fresh_install() {
    let mut clock = Clock::new();
    let web = "  - { name: web, interval: 10s, failure_threshold: 1, tcp: { host: 127.0.0.1, port: 9 } }\n";
    let api = "  - { name: api, interval: 10s, failure_threshold: 1, tcp: { host: 127.0.0.1, port: 9 } }\n";
    // A fresh install finds web down: recorded, not alerted.
    let mut c = core(web, &clock);
    probe_round(&mut c, &mut clock, Status::Down);
    assert!(events(&mut c).is_empty());
    // api joins by a reload (as the monitors API adds one) and is down from its first
    // probe: that is an outage to hear of.
    let mut p = plan(&format!(
        "version: 1\nnotifiers:\n  chat: {{ type: webhook, url: \"http://127.0.0.1:9/chat\" }}\ndefaults: {{ notify: [chat] }}\nmonitors:\n{web}{api}"
    ));
    let now = clock.advance(S);
    c.reload(
        std::mem::take(&mut p.monitors),
        Alerts::new(std::mem::take(&mut p.notifications)),
        p.regions.clone(),
        UpstreamPing::Off,
        now.wall,
    );
    let mut seen = Vec::new();
    for _ in 0..20 {
        let now = clock.advance(S);
        tick(&mut c, now, Status::Down);
        seen.extend(events(&mut c));
    }
    assert_eq!(seen, [("api".to_owned(), "down")]);
    // A restart with a store that knows web: api, new in the file, is alerted too.
    let states = HashMap::from([("web".to_owned(), crate::state::MonitorState::default())]);
    let mut p = plan(&format!(
        "version: 1\nnotifiers:\n  chat: {{ type: webhook, url: \"http://127.0.0.1:9/chat\" }}\ndefaults: {{ notify: [chat] }}\nmonitors:\n{web}{api}"
    ));
    let mut c = Core::new(
        std::mem::take(&mut p.monitors),
        Alerts::new(std::mem::take(&mut p.notifications)),
        p.regions.clone(),
        UpstreamPing::Off,
        Stored {
            states,
            ..Stored::default()
        },
        true,
        "default".into(),
        clock.wall,
    );
    let mut seen = Vec::new();
    for _ in 0..20 {
        let now = clock.advance(S);
        tick(&mut c, now, Status::Down);
        seen.extend(events(&mut c));
    }
    assert!(seen.contains(&("api".to_owned(), "down")), "{seen:?}");
}
