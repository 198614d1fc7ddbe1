//! The store on both backends (PostgreSQL where it is installed).

use super::*;
use crate::state::Incident;
use crate::status::Status;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn obs(monitor: &str, secs: u64, status: Status) -> ObservationRow {
    ObservationRow {
        monitor: monitor.into(),
        at: at(secs),
        scheduled: Some(at(secs)),
        status,
        latency: Duration::from_millis(12),
        reason: format!("{} at {secs}", status.name()),
        details: None,
        region: String::new(),
    }
}

/// The rendered down alert of `api` opened at 10.
fn down_message() -> crate::template::Message {
    crate::template::Message {
        event: "down".into(),
        monitor: "api".into(),
        title: "api is DOWN".into(),
        text: "api is DOWN: HTTP 500".into(),
        body: None,
        status: "down".into(),
        at: "2023-11-14T22:13:30Z".into(),
        when: String::new(),
        incident: "api-1700000010000".into(),
        ack_by: None,
        severity: String::new(),
    }
}

/// `api` goes down at 10, alerted to `chat` and `pager`.
fn down_alerted() -> Batch {
    let mut batch = Batch::default();
    batch.record(
        obs("api", 10, Status::Down),
        &MonitorState::default(),
        &down_state(10),
        vec![opened("api", 10)],
    );
    for notifier in ["chat", "pager"] {
        batch.outbox.push(OutboxEntry {
            event: 0,
            notifier: notifier.into(),
            message: down_message(),
        });
    }
    batch
}

/// An incident is resolved at its recovery (the first passing observation), the time
/// its recovery alert gives, not at the observation that confirmed it: `history`
/// and the alert agree.
#[test]
fn an_incident_is_resolved_when_it_recovered() {
    let prev = down_state(10);
    let next = MonitorState {
        status: Some(Status::Up),
        recovered_at: Some(at(40)),
        ..MonitorState::default()
    };
    let obs = ObservationRow {
        monitor: "api".into(),
        at: at(60),
        scheduled: None,
        status: Status::Up,
        latency: Duration::ZERO,
        reason: "HTTP 200".into(),
        details: None,
        region: String::new(),
    };
    let mut batch = Batch::default();
    batch.record_evaluation(&obs, &prev, next.clone(), Vec::new());
    assert_eq!(
        batch.resolved,
        [ResolvedIncident {
            monitor: "api".to_owned(),
            opened_at: at(10),
            resolved_at: at(40),
        }]
    );
}

fn down_state(opened: u64) -> MonitorState {
    MonitorState {
        status: Some(Status::Down),
        since: Some(at(opened)),
        incident: Some(Incident {
            opened_at: at(opened),
            started_at: None,
            reason: "HTTP 500".into(),
            parent: None,
        }),
        ..MonitorState::default()
    }
}

/// The same test on both backends: a fresh SQLite file, then a fresh PostgreSQL
/// database on a server of its own (skipped where PostgreSQL is not installed, never
/// in CI).
fn on_both(test: impl Fn(&Location)) {
    let dir = tempfile::tempdir().unwrap();
    test(&Location::Sqlite(dir.path().join("s.db")));
    if let Some(pg) = testpg::TestPg::start() {
        test(&Location::parse(&pg.database("hbmon")));
    }
}

fn opened(monitor: &str, secs: u64) -> Event {
    let _ = monitor;
    Event::IncidentOpened {
        at: at(secs),
        opened_at: at(secs),
        started_at: at(secs),
        reason: "HTTP 500".into(),
    }
}

/// Downtime counts from an incident's first failing observation, not from when the
/// threshold confirmed it: a monitor failing from its first probe was never up, and the
/// recovery alert's downtime and the uptime figures agree.
#[test]
fn downtime_counts_from_the_first_failure() {
    on_both(|loc| {
        let mut store = Store::open(loc).unwrap();
        let up = MonitorState::default();
        let mut down = down_state(30);
        if let Some(i) = &mut down.incident {
            i.started_at = Some(at(10));
        }
        let mut batch = Batch::default();
        batch.record(obs("api", 30, Status::Down), &up, &down, vec![]);
        store.commit(&batch).unwrap();
        assert_eq!(
            store.downtime("api", at(10), at(50)).unwrap(),
            Duration::from_secs(40)
        );
        assert_eq!(
            store.downtime("api", at(0), at(50)).unwrap(),
            Duration::from_secs(40)
        );
        assert_eq!(
            store.incidents(Some("api"), false, 1).unwrap()[0].started_at,
            at(10)
        );
    });
}

#[test]
fn a_batch_round_trips_and_incidents_are_idempotent() {
    on_both(|loc| {
        let mut store = Store::open(loc).unwrap();
        let up = MonitorState::default();
        let down = down_state(10);
        let mut batch = Batch::default();
        batch.record(
            obs("api", 10, Status::Down),
            &up,
            &down,
            vec![opened("api", 10)],
        );
        store.commit(&batch).unwrap();
        // The same incident again (a batch replayed after a crash) is not a duplicate.
        store.commit(&batch).unwrap();
        assert_eq!(store.count("incidents").unwrap(), 1);
        let states = store.states().unwrap();
        assert_eq!(states.len(), 1);
        assert_eq!(states[0].state, down);
        assert_eq!(states[0].last_reason.as_deref(), Some("down at 10"));
        let mut batch = Batch::default();
        batch.record(obs("api", 40, Status::Up), &down, &up, vec![]);
        store.commit(&batch).unwrap();
        let incidents = store.incidents(Some("api"), false, 10).unwrap();
        assert_eq!(incidents.len(), 1);
        assert_eq!(incidents[0].resolved_at, Some(at(40)));
        assert!(store.incidents(None, true, 10).unwrap().is_empty());
        assert_eq!(
            store.downtime("api", at(0), at(100)).unwrap(),
            Duration::from_secs(30)
        );
        assert_eq!(
            store.downtime("api", at(20), at(100)).unwrap(),
            Duration::from_secs(20)
        );
        let events = store.events(None, 0).unwrap();
        assert_eq!(events.len(), 2, "the replayed batch wrote its event twice");
        assert_eq!(events[0].kind, "down");
        assert_eq!(events[0].payload["reason"], "HTTP 500");
        let seen = store.observations("api", 10).unwrap();
        assert_eq!(seen[0].at, at(40));
        assert_eq!(seen[0].latency, Duration::from_millis(12));
        assert_eq!(store.prune(at(20)).unwrap(), 4);
        assert_eq!(store.count("observations").unwrap(), 1);
        assert!(store.size().unwrap() > 0);
    });
}

/// Measurements round-trip through `details.measurements` on both backends, numbers
/// unchanged; an observation stored before there were measurements (details without
/// them, or no details at all) reads back with none.
#[test]
fn measurements_round_trip_and_old_rows_have_none() {
    on_both(|loc| {
        let mut store = Store::open(loc).unwrap();
        let measured = crate::probe::measurements_json(&[
            ("latency_ms", 12.345),
            ("status_code", 200.0),
            ("tls_expiry_days", -1.5),
            ("memory_percent", 41.25),
        ]);
        let mut new = obs("api", 30, Status::Up);
        new.details = Some(serde_json::json!({ "measurements": measured }));
        let mut old = obs("api", 20, Status::Up);
        old.details = Some(serde_json::json!({ "cert_not_after": "2030-01-01T00:00:00Z" }));
        let bare = obs("api", 10, Status::Up);
        let mut batch = Batch::default();
        let up = MonitorState::default();
        for o in [bare, old, new] {
            batch.record(o, &up, &up, vec![]);
        }
        store.commit(&batch).unwrap();
        let seen = store.observations("api", 10).unwrap();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0].measurements(), measured);
        assert_eq!(seen[0].measurements()["latency_ms"], 12.345);
        assert_eq!(seen[0].measurements()["tls_expiry_days"], -1.5);
        assert!(seen[1].measurements().is_empty());
        assert!(seen[2].measurements().is_empty());
    });
}

/// Two fresh stores' first alerts have different delivery ids (event ids count from 1
/// in each): a receiver dropping repeated ids must not drop a new store's alerts.
#[test]
fn delivery_ids_differ_between_stores() {
    let ids = std::cell::RefCell::new(Vec::new());
    for _ in 0..2 {
        on_both(|loc| {
            let mut store = Store::open(loc).unwrap();
            store.commit(&down_alerted()).unwrap();
            let id = store.pending_deliveries(10).unwrap()[0].delivery_id.clone();
            let parts: Vec<&str> = id.splitn(4, '-').collect();
            assert_eq!(parts[0], "hbmon", "{id}");
            assert_eq!(parts[1].len(), 12, "the store's random id: {id}");
            assert_eq!(parts[2], "1", "the event id: {id}");
            // The same store gives the same id again: stable across restarts.
            drop(store);
            let again = Store::open(loc).unwrap().pending_deliveries(10).unwrap();
            assert_eq!(again[0].delivery_id, id);
            ids.borrow_mut().push(id);
        });
    }
    let ids = ids.into_inner();
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
}

#[test]
fn alerts_acks_and_pings_round_trip_and_retention_takes_delivered_alerts() {
    on_both(|loc| {
        let mut store = Store::open(loc).unwrap();
        let message = down_message();
        let mut batch = down_alerted();
        batch.pings.push(PingRow {
            monitor: "job".into(),
            at: at(11),
            kind: "success".into(),
            rid: Some("r1".into()),
            body: "done".into(),
            source: Some("192.0.2.7".into()),
        });
        batch
            .heartbeats
            .insert("job".into(), crate::heartbeat::Pings::default());
        store.commit(&batch).unwrap();
        let pending = store.pending_deliveries(10).unwrap();
        assert_eq!(pending.len(), 2);
        assert_eq!(pending[0].message, message);
        assert!(pending[0].delivery_id.starts_with("hbmon-"));
        store.mark_delivered(pending[0].id, 1, at(12)).unwrap();
        store
            .mark_retry(pending[1].id, 1, at(60), "HTTP 503")
            .unwrap();
        assert_eq!(store.outbox_pending().unwrap().0, 1);
        let rows = store.outbox().unwrap();
        assert_eq!(rows[0].delivered_at, Some(at(12)));
        assert_eq!(rows[1].last_error.as_deref(), Some("HTTP 503"));
        let pings = store.pings("job", 5).unwrap();
        assert_eq!(pings[0].kind, "success");
        assert_eq!(pings[0].source.as_deref(), Some("192.0.2.7"));
        assert!(store.heartbeats().unwrap().contains_key("job"));

        // An ack request, answered in a batch with its effect.
        let id = store
            .request_ack("api", "alice", "on it", None, Some(at(10)))
            .unwrap();
        let asked = store.pending_acks(0).unwrap();
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].opened_at, Some(at(10)));
        assert!(store.pending_acks(id).unwrap().is_empty());
        assert_eq!(store.ack_outcome(id).unwrap(), None);
        let mut batch = Batch::default();
        let ack = crate::state::Ack {
            at: at(20),
            by: "alice".into(),
            note: "on it".into(),
            until: None,
        };
        batch.acked.push(AppliedAck {
            monitor: "api".into(),
            opened_at: at(10),
            ack,
        });
        batch.ack_outcomes.push(AckAnswer {
            request: id,
            at: at(20),
            outcome: AckOutcome::Acknowledged,
        });
        store.commit(&batch).unwrap();
        assert_eq!(
            store.ack_outcome(id).unwrap(),
            Some(AckOutcome::Acknowledged)
        );
        assert!(store.pending_acks(0).unwrap().is_empty());
        let incident = &store.incidents(Some("api"), false, 1).unwrap()[0];
        assert_eq!(
            incident.acked,
            Some((at(20), "alice".to_owned(), "on it".to_owned()))
        );

        // Retention: the delivered alert goes with its event... unless another alert
        // of that event is still pending: then both stay.
        store.prune(at(100)).unwrap();
        assert_eq!(store.count("events").unwrap(), 1);
        store.mark_dead(pending[1].id, "gave up").unwrap();
        store.prune(at(100)).unwrap();
        assert_eq!(store.count("events").unwrap(), 0);
        assert_eq!(store.count("outbox").unwrap(), 0);
        assert_eq!(store.count("pings").unwrap(), 0);
        assert_eq!(store.count("incidents").unwrap(), 1, "incidents are kept");
        assert_eq!(store.incidents(Some("api"), true, 10).unwrap().len(), 1);
        store.forget("api").unwrap();
        assert!(store.states().unwrap().is_empty());
        // Its open incident ends with it (nothing could close or acknowledge it any more),
        // and stays in the history.
        assert!(store.incidents(None, true, 10).unwrap().is_empty());
        assert_eq!(store.incidents(Some("api"), false, 10).unwrap().len(), 1);
        // A heartbeat's pings state goes with it (its pings stay for history).
        store.forget("job").unwrap();
        assert!(store.heartbeats().unwrap().is_empty());
    });
}

#[test]
fn every_schema_version_has_its_migration() {
    assert_eq!(
        i64::try_from(sqlite::MIGRATIONS.len()).unwrap(),
        SCHEMA_VERSION
    );
    assert_eq!(postgres::MIGRATIONS.last().unwrap().0, SCHEMA_VERSION);
    on_both(|loc| {
        let store = Store::open(loc).unwrap();
        assert_eq!(store.version().unwrap(), SCHEMA_VERSION);
        assert!(store.heartbeats().unwrap().is_empty());
        assert_eq!(store.count("pings").unwrap(), 0);
        drop(store);
        // Opening again migrates nothing and loses nothing.
        let store = Store::open(loc).unwrap();
        assert_eq!(store.version().unwrap(), SCHEMA_VERSION);
    });
}

#[test]
fn one_writer_at_a_time_and_readers_alongside() {
    on_both(|loc| {
        assert!(!Store::writer_running(loc) || matches!(loc, Location::Sqlite(_)));
        let writer = Store::open(loc).unwrap();
        assert!(Store::writer_running(loc));
        let err = Store::open(loc).unwrap_err().to_string();
        assert!(err.contains("in use by another"), "{err}");
        let reader = Store::open_read(loc).unwrap();
        assert!(reader.states().unwrap().is_empty());
        drop(writer);
        assert!(!Store::writer_running(loc));
        drop(Store::open(loc).unwrap());
    });
}

#[test]
fn newer_and_foreign_files_are_refused_with_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let loc = Location::Sqlite(path.clone());
    drop(Store::open(&loc).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = Store::open(&loc).unwrap_err().to_string();
    assert!(err.contains("newer hbmon (schema version 99"), "{err}");
    assert!(err.contains("new.db"), "{err}");
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![b'x'; 8192]).unwrap();
    let err = Store::open(&Location::Sqlite(junk.clone()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not a SQLite database"), "{err}");
    assert_eq!(
        std::fs::read(&junk).unwrap(),
        vec![b'x'; 8192],
        "left as it was"
    );
    let missing = Location::Sqlite(dir.path().join("missing.db"));
    let err = Store::open_read(&missing).unwrap_err().to_string();
    assert!(err.contains("does not exist"), "{err}");
}

/// PostgreSQL's lease: a second writer waits; once the lease has run out (set here in
/// the database, as time would) it takes over with a new epoch, and the old writer is
/// fenced: its commit fails, and its sender is told not to send.
fn regional(monitor: &str, region: &str, secs: u64, status: Status) -> ObservationRow {
    ObservationRow {
        region: region.into(),
        ..obs(monitor, secs, status)
    }
}

/// Regions: every instance reports, observations keep their region, the newest per
/// monitor and region is read back; on PostgreSQL a standby records observations and
/// pings without the lease (never state), and each instance reads the other's.
#[test]
fn regions_report_and_views_read_back() {
    on_both(|loc| {
        let mut leader = Store::open(loc).unwrap();
        let mut batch = Batch::default();
        for (m, r, t, s) in [
            ("web", "a", 10, Status::Up),
            ("web", "a", 20, Status::Down),
            ("web", "b", 15, Status::Up),
            ("api", "a", 5, Status::Up),
        ] {
            batch.observations.push(regional(m, r, t, s));
        }
        leader.commit(&batch).unwrap();
        leader.report_region("a").unwrap();
        let regions = leader.regions().unwrap();
        assert_eq!(regions.len(), 1, "{regions:?}");
        assert_eq!(regions[0].region, "a");
        assert!(regions[0].age < Duration::from_secs(5), "{regions:?}");
        let latest = leader.latest_by_region(at(8), false).unwrap();
        let got: Vec<(&str, &str, Status)> = latest
            .iter()
            .map(|r| (r.monitor.as_str(), r.region.as_str(), r.status))
            .collect();
        // `api` in a is older than `since`.
        assert_eq!(got, [("web", "a", Status::Down), ("web", "b", Status::Up)]);
        assert!(leader.latest_by_region(at(8), true).unwrap().is_empty());
        let Location::Postgres { .. } = loc else {
            return;
        };
        let (mut standby, leading) = Store::open_or_standby(loc).unwrap();
        assert!(!leading);
        let mut mine = Batch::default();
        mine.observations
            .push(regional("web", "c", 30, Status::Down));
        mine.pings.push(PingRow {
            monitor: "job".into(),
            at: at(31),
            kind: "success".into(),
            rid: None,
            body: String::new(),
            source: None,
        });
        standby.commit(&mine).unwrap();
        standby.report_region("c").unwrap();
        // State is the leader's: a standby's is fenced.
        let mut state = Batch::default();
        state.record(
            regional("web", "c", 32, Status::Down),
            &MonitorState::default(),
            &down_state(32),
            vec![],
        );
        assert!(lease_lost(&standby.commit(&state).unwrap_err()));
        let others = leader.latest_by_region(at(8), true).unwrap();
        assert_eq!(others.len(), 1);
        assert_eq!((others[0].region.as_str(), others[0].at), ("c", at(30)));
        let pings = leader.remote_pings(at(0)).unwrap();
        assert_eq!(pings.len(), 1);
        assert_eq!(pings[0].1.monitor, "job");
        assert!(standby.remote_pings(at(0)).unwrap().is_empty());
        let seen: Vec<String> = leader
            .regions()
            .unwrap()
            .into_iter()
            .map(|r| r.region)
            .collect();
        assert_eq!(seen.len(), 2);
        assert!(seen.contains(&"a".to_owned()) && seen.contains(&"c".to_owned()));
        drop(standby);
    });
}

/// A commit's id is stored with it, so that one whose answer was lost can be asked
/// about; an id cannot be committed twice (the batch is never written twice).
#[test]
fn commits_are_recorded_by_id() {
    on_both(|loc| {
        let mut store = Store::open(loc).unwrap();
        let mut batch = Batch::default();
        batch.observations.push(obs("api", 10, Status::Up));
        let id = commit_id();
        assert!(!store.was_committed(&id).unwrap());
        store.commit_as(&batch, &id).unwrap();
        assert!(store.was_committed(&id).unwrap());
        assert!(store.commit_as(&batch, &id).is_err());
        assert_eq!(store.count("observations").unwrap(), 1);
        assert_ne!(commit_id(), id);
        // Kept a day, whatever the retention; gone with it after.
        store.prune(at(0)).unwrap();
        assert!(store.was_committed(&id).unwrap());
        let later = SystemTime::now() + Duration::from_secs(2 * 86_400);
        store.prune(later).unwrap();
        assert!(!store.was_committed(&id).unwrap());
    });
}

/// A PostgreSQL server of its own, its database's URL, a writer holding the lease and
/// an alert sender beside it.
fn pg_writer_and_sender() -> Option<(testpg::TestPg, String, Store, Store)> {
    let pg = testpg::TestPg::start()?;
    let url = pg.database("hbmon");
    let loc = Location::parse(&url);
    let writer = Store::open(&loc).unwrap();
    let sender = Store::open_sender(&loc).unwrap();
    Some((pg, url, writer, sender))
}

/// PostgreSQL: the sender claims alerts (FOR UPDATE SKIP LOCKED) only while its process
/// holds the lease; another sender's live claim is skipped, an expired one taken over.
#[test]
fn postgres_outbox_claims_check_the_lease() {
    let Some((_pg, url, mut writer, sender)) = pg_writer_and_sender() else {
        return;
    };
    writer.commit(&down_alerted()).unwrap();
    let mut admin = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    // Another process's sender is delivering `pager`: skipped while its claim lasts.
    admin
        .execute(
            "UPDATE outbox SET claimed_by = 'elsewhere:1:1', claimed_until = 9e15::bigint WHERE notifier = 'pager'",
            &[],
        )
        .unwrap();
    let claimed = sender.pending_deliveries(10).unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].notifier, "chat");
    // Its claim ran out (it died): taken over.
    admin
        .execute(
            "UPDATE outbox SET claimed_until = 0 WHERE notifier = 'pager'",
            &[],
        )
        .unwrap();
    assert_eq!(sender.pending_deliveries(10).unwrap().len(), 2);
    // Without the lease, nothing is claimed.
    admin
        .execute("UPDATE hbmon_lease SET holder = 'elsewhere:1:1#0'", &[])
        .unwrap();
    assert!(sender.pending_deliveries(10).unwrap().is_empty());
    drop(writer);
}

#[test]
fn postgres_lease_fences_the_old_writer() {
    let Some((_pg, url, mut old, sender)) = pg_writer_and_sender() else {
        return;
    };
    let loc = Location::parse(&url);
    assert!(sender.still_leader().unwrap());
    let err = Store::open(&loc).unwrap_err();
    assert!(in_use(&err), "{err}");
    assert!(err.to_string().contains("lease for"), "{err}");
    old.renew().unwrap();
    let mut admin = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    admin
        .execute("UPDATE hbmon_lease SET expires_at = 0", &[])
        .unwrap();
    let mut new = Store::open(&loc).unwrap();
    let epoch: i64 = admin
        .query_one("SELECT epoch FROM hbmon_lease", &[])
        .unwrap()
        .get(0);
    assert_eq!(epoch, 2, "a new holder bumps the epoch");
    let mut batch = Batch::default();
    batch.record(
        obs("api", 10, Status::Up),
        &MonitorState::default(),
        &MonitorState::default(),
        vec![],
    );
    new.commit(&batch).unwrap();
    // The old writer (epoch 1) is fenced.
    let err = old.commit(&batch).unwrap_err();
    assert!(lease_lost(&err), "{err}");
    let err = old.renew().unwrap_err();
    assert!(lease_lost(&err), "{err}");
    // The sender answers for its process: with the lease held by another machine's
    // writer (here: renamed to one), it must not send.
    admin
        .execute("UPDATE hbmon_lease SET holder = 'elsewhere:1:1#0'", &[])
        .unwrap();
    assert!(!sender.still_leader().unwrap());
    assert_eq!(new.count("observations").unwrap(), 1);
    drop(old);
    drop(new);
}

/// PostgreSQL: a newer schema is refused; errors name the database without the
/// password; a server that is not there is a clear error; a lost connection is
/// reconnected (the writer takes its lock again) and nothing committed is lost.
#[test]
fn postgres_refuses_newer_schemas_and_reconnects() {
    let Some(pg) = testpg::TestPg::start() else {
        return;
    };
    let url = pg.database("hbmon").replace("hbmon@", "hbmon:s3cret-pw@");
    let loc = Location::parse(&url);
    let mut store = Store::open(&loc).unwrap();
    let mut batch = Batch::default();
    batch.record(
        obs("api", 10, Status::Up),
        &MonitorState::default(),
        &MonitorState::default(),
        vec![],
    );
    store.commit(&batch).unwrap();
    // Cut the writer's session from the server side, as a PostgreSQL restart would.
    let mut admin = ::postgres::Client::connect(&pg.url("postgres"), ::postgres::NoTls).unwrap();
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = 'hbmon' AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap();
    let first = store.commit(&batch);
    let second = store.commit(&batch);
    assert!(
        first.is_ok() || second.is_ok(),
        "no reconnect: {first:?} {second:?}"
    );
    assert!(store.count("observations").unwrap() >= 2);
    assert!(Store::writer_running(&loc), "the lock was taken again");
    drop(store);

    let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    c.execute("UPDATE hbmon_schema SET version = 99", &[])
        .unwrap();
    let err = Store::open(&loc).unwrap_err().to_string();
    assert!(err.contains("newer hbmon (schema version 99"), "{err}");
    assert!(err.contains("postgres://hbmon@127.0.0.1:"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    let closed = crate::store::Location::parse(&format!(
        "postgres://hbmon:s3cret-pw@127.0.0.1:{}/hbmon?sslmode=disable&connect_timeout=2",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    ));
    let err = Store::open(&closed).unwrap_err().to_string();
    assert!(err.contains("cannot use PostgreSQL"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Whatever is written comes back as it was: any text in reasons and ping bodies
    /// (quotes, NUL, odd Unicode), any millisecond, in batches of any split; newest
    /// first.
    #[test]
    fn what_is_written_is_read_back(
        rows in proptest::collection::vec(
            (0u8..3, 0u64..10_000_000, 0usize..4, 0u64..100_000, "\\PC{0,40}|[\\x00-\\x7f]{0,40}", proptest::option::of("[a-z]{1,8}")),
            1..40,
        ),
        split in 1usize..10,
        bodies in proptest::collection::vec("\\PC{0,60}|[\\x00-\\x7f]{0,60}", 0..10),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&Location::Sqlite(dir.path().join("p.db"))).unwrap();
        let statuses = [Status::Up, Status::Degraded, Status::Unknown, Status::Down];
        let written: Vec<ObservationRow> = rows
            .iter()
            .enumerate()
            .map(|(i, (m, ms, st, lat, reason, detail))| ObservationRow {
                monitor: format!("m{m}"),
                // Distinct times: the order read back is by time.
                at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + ms * 64 + i as u64),
                scheduled: None,
                status: statuses[*st],
                latency: Duration::from_millis(*lat),
                reason: reason.clone(),
                details: detail.as_ref().map(|d| serde_json::json!({ "note": d })),
                region: String::new(),
            })
            .collect();
        for chunk in written.chunks(split) {
            let mut b = Batch::default();
            b.observations.extend(chunk.iter().cloned());
            store.commit(&b).unwrap();
        }
        let mut b = Batch::default();
        for (i, body) in bodies.iter().enumerate() {
            b.pings.push(PingRow {
                monitor: "hb".into(),
                at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + i as u64),
                kind: "success".into(),
                rid: None,
                body: body.clone(),
                source: None,
            });
        }
        store.commit(&b).unwrap();
        for m in 0..3 {
            let name = format!("m{m}");
            let mut want: Vec<&ObservationRow> =
                written.iter().filter(|o| o.monitor == name).collect();
            want.sort_by_key(|o| std::cmp::Reverse(o.at));
            let got = store.observations(&name, 1000).unwrap();
            proptest::prop_assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want) {
                proptest::prop_assert_eq!(g.at, w.at);
                proptest::prop_assert_eq!(g.status, w.status);
                proptest::prop_assert_eq!(g.latency, w.latency);
                proptest::prop_assert_eq!(&g.reason, &w.reason);
                proptest::prop_assert_eq!(&g.details, &w.details);
            }
        }
        let pings = store.pings("hb", 1000).unwrap();
        let mut got: Vec<String> = pings.into_iter().map(|p| p.body).collect();
        got.reverse();
        proptest::prop_assert_eq!(got, bodies);
    }
}

/// A leader paused inside a commit holds the lease row's lock; a standby's takeover would
/// wait on it for ever. Every hbmon session tells the server to end itself when it sits
/// idle in a transaction for a lease, so the lock is released and the standby takes over.
#[test]
fn postgres_sessions_end_when_idle_in_a_transaction_for_a_lease() {
    let Some(pg) = testpg::TestPg::start() else {
        return;
    };
    let mut loc = Location::parse(&pg.database("hbmon"));
    if let Location::Postgres { lease, .. } = &mut loc {
        *lease = std::time::Duration::from_secs(3);
    }
    let mut client = super::postgres::connect_for_tests(&loc).unwrap();
    let row = client
        .query_one("SHOW idle_in_transaction_session_timeout", &[])
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "3s");
}
