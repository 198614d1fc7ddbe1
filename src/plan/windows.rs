//! Schedules and windows: `schedules`, `active` and `maintenance`, a monitor's run
//! schedule and its flapping detection.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use crate::config::diag::At;
use crate::config::load;
use crate::config::raw;
use crate::schedule::{CronError, Schedule, Window, Windows};
use crate::state::Flapping;

use super::{Builder, Inherited, suggest};
use crate::model::NamedWindows;

impl Builder<'_> {
    pub(super) fn schedules(
        &mut self,
        doc: &load::Document,
    ) -> BTreeMap<String, Option<Arc<Windows>>> {
        let mut out = BTreeMap::new();
        for (name, def) in &doc.schedules {
            let ptr = format!("/schedules/{}", crate::config::spans::escape(name));
            let windows = def.as_ref().and_then(|d| self.windows(&ptr, d));
            out.insert(name.clone(), windows.map(Arc::new));
        }
        out
    }

    pub(super) fn windows(&mut self, ptr: &str, def: &raw::ScheduleDef) -> Option<Windows> {
        let name = def.timezone.as_deref().unwrap_or("UTC");
        let tz = name
            .parse::<chrono_tz::Tz>()
            .map_err(|_| {
                self.error(At::value(format!("{ptr}/timezone")), "unknown time zone")
                    .hint = Some(super::values::time_zone_hint(name));
            })
            .ok();
        let mut windows = Vec::new();
        for (i, w) in def.windows.iter().enumerate() {
            let wp = format!("{ptr}/windows/{i}");
            if let Some(w) = self.window(&wp, w, tz.unwrap_or(chrono_tz::UTC)) {
                windows.push(w);
            }
        }
        (windows.len() == def.windows.len()).then_some(Windows { tz: tz?, windows })
    }

    /// One window; a `cron` one is read in the schedule's time zone `tz`.
    pub(super) fn window(
        &mut self,
        ptr: &str,
        w: &raw::WindowDef,
        tz: chrono_tz::Tz,
    ) -> Option<Window> {
        let daily = w.days.is_some() || w.from.is_some() || w.to.is_some();
        if let Some(cron) = &w.cron {
            if daily {
                self.error(
                    At::key(ptr),
                    "a window has either `cron` and `duration`, or `days`, `from` and `to`",
                );
                return None;
            }
            let schedule = match crate::schedule::Schedule::cron(cron, tz.name()) {
                Ok(s) => Some(s),
                Err(e) => {
                    self.error(At::value(format!("{ptr}/cron")), e.to_string());
                    None
                }
            };
            let duration = self.duration(&format!("{ptr}/duration"), w.duration.as_ref());
            if w.duration.is_none() {
                self.error(At::key(ptr), "a `cron` window needs a `duration`")
                    .hint = Some("for example `duration: 2h`".into());
            }
            return Some(Window::Cron {
                schedule: schedule?,
                duration: duration?,
            });
        }
        if w.duration.is_some() {
            self.error(
                At::value(format!("{ptr}/duration")),
                "`duration` belongs to a `cron` window",
            )
            .hint = Some("a `days` window ends at `to`".into());
            return None;
        }
        let days = match crate::schedule::parse_days(w.days.as_deref().unwrap_or("daily")) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(At::value(format!("{ptr}/days")), e);
                None
            }
        };
        let mut time = |key: &str, v: Option<&String>| -> Option<chrono::NaiveTime> {
            let Some(v) = v else {
                self.error(At::key(ptr), format!("a `days` window needs `{key}`"))
                    .hint = Some("for example `from: \"08:00\"` and `to: \"18:00\"`".into());
                return None;
            };
            crate::schedule::parse_time(v)
                .map_err(|e| self.error(At::value(format!("{ptr}/{key}")), e))
                .ok()
        };
        let from = time("from", w.from.as_ref());
        let to = time("to", w.to.as_ref());
        Some(Window::Days {
            days: days?,
            from: from?,
            to: to?,
        })
    }

    pub(super) fn flapping(&mut self, ptr: &str, f: &raw::FlappingDef) -> Option<Flapping> {
        let window = self.duration(&format!("{ptr}/window"), Some(&f.window))?;
        Some(Flapping {
            changes: NonZeroU32::new(f.changes.max(2))?,
            window,
        })
    }

    /// The named schedule a monitor refers to with `key` (`active`, `maintenance`).
    pub(super) fn named_windows(
        &mut self,
        ptr: &str,
        key: &str,
        name: Option<&String>,
        schedules: &BTreeMap<String, Option<Arc<Windows>>>,
    ) -> Option<NamedWindows> {
        let name = name?;
        let Some(w) = schedules.get(name) else {
            let names: Vec<&str> = schedules.keys().map(String::as_str).collect();
            let hint = suggest(name, &names, "schedules");
            self.error(
                At::value(format!("{ptr}/{key}")),
                format!("unknown schedule `{name}`"),
            )
            .hint = Some(hint);
            return None;
        };
        w.as_ref().map(|w| NamedWindows {
            windows: Arc::clone(w),
        })
    }

    /// The run schedule: `cron` (with `timezone`) or `interval` (with `align`, `jitter`).
    pub(super) fn run_schedule(
        &mut self,
        ptr: &str,
        m: &raw::Monitor,
        interval: Duration,
        defaults: &Inherited,
    ) -> Option<Schedule> {
        let jitter = match &m.jitter {
            Some(j) => self.duration_or_zero(&format!("{ptr}/jitter"), Some(j)),
            None => defaults.jitter,
        };
        let Some(cron) = &m.cron else {
            if m.timezone.is_some() {
                self.error(
                    At::key(format!("{ptr}/timezone")),
                    "`timezone` applies to `cron` only",
                )
                .hint = Some("windows have their own `timezone` under `schedules`".into());
            }
            return Some(Schedule::Every {
                interval,
                align: m.align.unwrap_or(defaults.align),
                offset: jitter.map_or(Duration::ZERO, |j| {
                    crate::schedule::jitter_offset(&m.name, j.min(interval))
                }),
            });
        };
        for (key, given) in [
            ("interval", m.interval.is_some()),
            ("align", m.align.is_some()),
        ] {
            if given {
                self.error(
                    At::key(format!("{ptr}/{key}")),
                    format!("`{key}` and `cron` exclude each other"),
                )
                .hint = Some("a monitor runs either every `interval` or at `cron` times".into());
            }
        }
        self.cron(ptr, cron, m.timezone.as_deref())
    }

    /// A `cron` schedule in `timezone` (UTC when left out), a problem reported at the key
    /// it is about (`cron` or `timezone`, beside `ptr`).
    pub(super) fn cron(
        &mut self,
        ptr: &str,
        expr: &str,
        timezone: Option<&str>,
    ) -> Option<Schedule> {
        match Schedule::cron(expr, timezone.unwrap_or("UTC")) {
            Ok(s) => Some(s),
            Err(e) => {
                match e {
                    CronError::TimeZone(_) => {
                        self.error(At::value(format!("{ptr}/timezone")), "unknown time zone")
                            .hint = Some(super::values::time_zone_hint(timezone.unwrap_or("UTC")));
                    }
                    CronError::Expression(_) => {
                        self.error(At::value(format!("{ptr}/cron")), e.to_string());
                    }
                }
                None
            }
        }
    }
}
