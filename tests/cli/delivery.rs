//! Delivery under `kill -9` with a receiver that misbehaves: each cycle makes an alert
//! (the service goes down or comes back), then kills `watch` at a random moment while the
//! alert is being written, sent or retried. The receiver answers in turn 200, 500, 429
//! with `Retry-After`, hangs, answers after the attempt's timeout, or dribbles its answer
//! byte by byte. At the end, a last `watch` delivers what is left.
//!
//! Figures (printed): alerts expected (the outbox), received by delivery id, lost (must be
//! 0), duplicates and why (an answer that came after the attempt's timeout, or a kill
//! between sending and recording). `HBMON_KILL_CYCLES` sets the number of cycles (20 by
//! default; `bench/kill9.sh` runs 100).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::harness::hbmon;
use crate::watch::{Daemon, Switch};

/// How the receiver answers a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mood {
    Ok,
    ServerError,
    TooMany,
    Hang,
    /// 200, after the notifier's 1 s timeout.
    Late,
    /// 200, a byte every 10 ms (well within the timeout).
    Dribble,
}

const MOODS: [Mood; 6] = [
    Mood::Ok,
    Mood::ServerError,
    Mood::TooMany,
    Mood::Hang,
    Mood::Late,
    Mood::Dribble,
];

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
struct Seen {
    delivery: String,
    event: String,
    mood: Mood,
    at: Instant,
}

/// A raw HTTP/1.1 receiver, one thread per connection, with a mood per request.
struct MoodyReceiver {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// When set, every request is answered 200 at once.
    calm: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MoodyReceiver {
    fn start() -> MoodyReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let calm = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicUsize::new(0));
        let (s, c, st) = (Arc::clone(&seen), Arc::clone(&calm), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let n = count.fetch_add(1, Ordering::SeqCst);
                let mood = if c.load(Ordering::SeqCst) {
                    Mood::Ok
                } else {
                    MOODS[n % MOODS.len()]
                };
                let (s, st) = (Arc::clone(&s), Arc::clone(&st));
                std::thread::spawn(move || answer(conn, mood, &s, &st));
            }
        });
        MoodyReceiver {
            port,
            seen,
            calm,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for MoodyReceiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(conn: TcpStream, mood: Mood, seen: &Mutex<Vec<Seen>>, stop: &AtomicBool) {
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(conn);
    let mut length = 0usize;
    let mut delivery = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            match k.to_ascii_lowercase().as_str() {
                "content-length" => length = v.trim().parse().unwrap_or(0),
                "x-hbmon-delivery" => v.trim().clone_into(&mut delivery),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let event = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["event"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut conn = reader.into_inner();
    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    let record = |mood| {
        seen.lock().unwrap().push(Seen {
            delivery: delivery.clone(),
            event: event.clone(),
            mood,
            at: Instant::now(),
        });
    };
    match mood {
        Mood::Ok => {
            record(mood);
            let _ = conn.write_all(ok);
        }
        Mood::ServerError => {
            record(mood);
            let _ = conn.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
        Mood::TooMany => {
            record(mood);
            let _ = conn.write_all(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
        Mood::Hang => {
            record(mood);
            // Until the sender gives up and closes, or the test ends.
            let mut buf = [0u8; 1];
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = conn.read(&mut buf);
            let _ = stop;
        }
        Mood::Late => {
            // Processed (the receiver acts on it), but answered after the sender's timeout.
            record(mood);
            std::thread::sleep(Duration::from_millis(1500));
            let _ = conn.write_all(ok);
        }
        Mood::Dribble => {
            record(mood);
            for b in ok {
                if conn.write_all(&[*b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// Whether a request counts as received by the receiver: it took the alert in (200, even
/// if late or slow). 500, 429 and hangs did not.
fn taken(s: &Seen) -> bool {
    matches!(s.mood, Mood::Ok | Mood::Late | Mood::Dribble)
}

#[test]
#[allow(clippy::too_many_lines)] // the cycles, then the figures and their checks
fn kill_9_with_alerts_in_flight_loses_none_and_duplicates_only_what_it_must() {
    let cycles: usize = std::env::var("HBMON_KILL_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let receiver = MoodyReceiver::start();
    let server = Switch::start();
    let yaml = format!(
        "version: 1\nnotifiers:\n  hook: {{ type: webhook, url: \"{}\", timeout: 1s, retry: {{ initial: 50ms, max: 300ms, max_attempts: 1000 }} }}\nmonitors:\n  - {{ name: web, interval: 50ms, timeout: 50ms, failure_threshold: 1, success_threshold: 1, notify: [hook], http: {{ url: \"http://127.0.0.1:{}/health\" }} }}\n",
        receiver.url(),
        server.port
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    // A fixed seed: the same kill moments on every run.
    let mut state: u64 = 0x5eed_1234_abcd_0042;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut up = true;
    for cycle in 0..cycles {
        // The opposite of what the store says (a kill may have lost the last change).
        if cycle > 0 {
            let stored_down = crate::watch::store(run.dir())
                .states()
                .unwrap()
                .into_iter()
                .find(|r| r.monitor == "web")
                .and_then(|r| r.state.announced_down())
                .is_some();
            up = stored_down;
        }
        server.set(up);
        let mut d = Daemon::start(run.dir(), &["--flush-interval", "50ms"]);
        if cycle == 0 {
            d.observed("web", "up");
            up = false;
            server.set(up);
        }
        let event = if up { "up" } else { "down" };
        d.wait_for("the event", |l| l["event"] == event);
        // Kill at a random moment in the next 1.5 s: before the commit, while sending,
        // while a late answer is on its way, between retries.
        std::thread::sleep(Duration::from_millis(next() % 1500));
        d.signal(Signal::SIGKILL);
        assert_eq!(d.exit_code(), -1, "cycle {cycle}: killed");
    }
    // The last one delivers what is left, to a calm receiver.
    receiver.calm.store(true, Ordering::SeqCst);
    server.set(up);
    let d = Daemon::start(run.dir(), &["--flush-interval", "50ms"]);
    let db = rusqlite::Connection::open(run.dir().join("hbmon.db")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let pending: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        if pending == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{pending} alerts still pending");
        std::thread::sleep(Duration::from_millis(100));
    }
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    // What should have been delivered: every alert in the outbox, in its order.
    let expected: Vec<(String, String)> = {
        let mut stmt = db
            .prepare(
                "SELECT o.delivery_id, e.kind, o.dead_at IS NULL FROM outbox o JOIN events e ON e.id = o.event_id ORDER BY o.id",
            )
            .unwrap();
        stmt.query_map([], |r| {
            let dead: bool = !r.get::<_, bool>(2)?;
            assert!(!dead, "an alert was given up");
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    let requests = receiver.seen();
    let mut taken_by_id: BTreeMap<&str, Vec<&Seen>> = BTreeMap::new();
    for s in requests.iter().filter(|s| taken(s)) {
        taken_by_id.entry(&s.delivery).or_default().push(s);
    }
    let lost: Vec<_> = expected
        .iter()
        .filter(|(id, _)| !taken_by_id.contains_key(id.as_str()))
        .collect();
    let unknown: BTreeSet<_> = taken_by_id
        .keys()
        .filter(|id| !expected.iter().any(|(e, _)| e == *id))
        .collect();
    let mut late_dups = 0;
    let mut kill_dups = 0;
    for takes in taken_by_id.values() {
        if takes.len() > 1 {
            if takes[..takes.len() - 1]
                .iter()
                .any(|s| s.mood == Mood::Late)
            {
                late_dups += takes.len() - 1;
            } else {
                kill_dups += takes.len() - 1;
            }
        }
    }
    // Order: each alert was first taken after the one before it (per monitor; one here).
    let firsts: Vec<Instant> = expected
        .iter()
        .filter_map(|(id, _)| taken_by_id.get(id.as_str()).map(|t| t[0].at))
        .collect();
    let in_order = firsts.windows(2).all(|w| w[0] <= w[1]);
    let events: Vec<&str> = expected.iter().map(|(_, e)| e.as_str()).collect();
    println!(
        "kill -9 cycles: {cycles}; alerts expected {}; received {} distinct; lost {}; requests {} ({} taken); duplicates {} ({late_dups} after an answer that came past the timeout, {kill_dups} from a kill between sending and recording); order kept: {in_order}",
        expected.len(),
        taken_by_id.len(),
        lost.len(),
        requests.len(),
        requests.iter().filter(|s| taken(s)).count(),
        late_dups + kill_dups,
    );
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(unknown.is_empty(), "not in the outbox: {unknown:?}");
    assert!(in_order, "{events:?}");
    // The alerts alternate down, up, ...: no incident opened twice, none missing.
    for pair in events.windows(2) {
        assert_ne!(pair[0], pair[1], "{events:?}");
    }
    assert_eq!(
        requests
            .iter()
            .filter(|s| taken(s))
            .map(|s| s.event.as_str())
            .filter(|e| *e != "down" && *e != "up")
            .count(),
        0
    );
}
