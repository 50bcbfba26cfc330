//! Typed events and their dispatch.
//!
//! Every event of the specification has a dense [`EventId`] (generated from
//! `grammars/zeek/*.tsv`). A concrete event is a plain struct whose fields are
//! the event's arguments, named as in the specification; it implements
//! [`TypedEvent`]. Producers raise events through [`raise!`](crate::raise), which tests the
//! subscription bit *before* building the arguments, so an event nobody
//! subscribes to costs one bit test.

use crate::log::Logs;
use crate::zeek::Time;
use serde::Serialize;
use std::any::Any;
use std::fmt;

/// Dense id of an event of the specification.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(pub u16);

/// One row of the specification's event table.
#[derive(Debug)]
pub struct EventSpec {
    pub analyzer: &'static str,
    pub name: &'static str,
    pub signature: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/event_ids.rs"));

impl EventId {
    pub fn spec(self) -> &'static EventSpec {
        &EVENT_TABLE[self.0 as usize]
    }
    pub fn name(self) -> &'static str {
        self.spec().name
    }
    pub fn by_name(name: &str) -> Option<EventId> {
        EVENT_TABLE
            .iter()
            .position(|e| e.name == name)
            .map(|i| EventId(i as u16))
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A raised event, with its type erased (what sinks receive).
pub trait Event: fmt::Debug + Any {
    fn id(&self) -> EventId;
    /// The arguments as a JSON object, named as in the specification.
    fn args_json(&self) -> serde_json::Value;
    /// The same object written straight to `out` (no intermediate `Value`:
    /// the `--events` hot path).
    fn write_args_json(&self, out: &mut dyn std::io::Write) -> serde_json::Result<()>;
    fn as_any(&self) -> &dyn Any;
    /// An owned copy that can cross threads (a sharded run hands the events
    /// of global sinks to the merge).
    fn to_send(&self) -> Box<dyn Event + Send>;
}

/// Implemented by every concrete event type.
pub trait TypedEvent: Event + Serialize + Sized {
    const ID: EventId;
}

/// Defines an event struct: `define_event!(NewConnection = NEW_CONNECTION { c: Connection });`
#[macro_export]
macro_rules! define_event {
    ($(#[$meta:meta])* $name:ident = $id:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, serde::Serialize)]
        pub struct $name { $($(#[$fmeta])* pub $field: $ty),* }
        impl $crate::event::TypedEvent for $name {
            const ID: $crate::event::EventId = $crate::event::ids::$id;
        }
        impl $crate::event::Event for $name {
            fn id(&self) -> $crate::event::EventId {
                <Self as $crate::event::TypedEvent>::ID
            }
            fn args_json(&self) -> serde_json::Value {
                serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
            }
            fn write_args_json(&self, out: &mut dyn std::io::Write) -> serde_json::Result<()> {
                serde_json::to_writer(out, self)
            }
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
            fn to_send(&self) -> Box<dyn $crate::event::Event + Send> {
                Box::new(self.clone())
            }
        }
    };
}

/// Raises an event if anyone subscribes to it; the struct literal is only
/// evaluated then. `raise!(events, ts, NewConnection { c: conn.record() })`.
#[macro_export]
macro_rules! raise {
    ($events:expr, $ts:expr, $ty:ident { $($body:tt)* }) => {{
        let events: &mut $crate::event::Events = $events;
        if events.wants(<$ty as $crate::event::TypedEvent>::ID) {
            let ev = $ty { $($body)* };
            events.raise($ts, &ev);
        }
    }};
}

/// A consumer of events. Log writers are consumers too: they receive the
/// run's one [`Logs`] with each event.
pub trait EventSink {
    /// Whether this sink wants `id`. Asked once per event id at subscription.
    fn wants(&self, id: EventId) -> bool;
    fn raise(&mut self, ts: Time, ev: &dyn Event, logs: &mut Logs);
    /// End of input: write what is pending and flush. An error (output that
    /// could not be written) makes the run fail; the other sinks are still finished.
    fn finish(&mut self, _logs: &mut Logs) -> std::io::Result<()> {
        Ok(())
    }
}

/// A sink and where a sharded run runs it.
pub struct PlacedSink {
    pub sink: Box<dyn EventSink>,
    /// `true`: its state spans connections that may be analysed by different
    /// workers (weird.log's memory, DHCP's joins by transaction, IRC's DCC
    /// transfers, a user's detector), so one instance sees every event, in
    /// order, in the merge; `false`: each worker runs its own.
    pub global: bool,
}

impl PlacedSink {
    pub fn per_worker(sink: Box<dyn EventSink>) -> PlacedSink {
        PlacedSink { sink, global: false }
    }
    pub fn global(sink: Box<dyn EventSink>) -> PlacedSink {
        PlacedSink { sink, global: true }
    }
}

/// Stands in a worker for the global sink `index`: keeps a copy of each
/// event it wants, with its place in the output, for the merge.
pub struct ForwardSink {
    index: u16,
    wants: Vec<bool>,
}

impl ForwardSink {
    /// For the `index`-th global sink, which wants the events `wants` marks
    /// (by [`EventId`]; see [`ForwardSink::wants_of`]).
    pub fn with_wants(index: u16, wants: Vec<bool>) -> ForwardSink {
        ForwardSink { index, wants }
    }

    /// The events `sink` wants, by id.
    pub fn wants_of(sink: &dyn EventSink) -> Vec<bool> {
        (0..EVENT_COUNT).map(|i| sink.wants(EventId(i as u16))).collect()
    }
}

impl EventSink for ForwardSink {
    fn wants(&self, id: EventId) -> bool {
        self.wants.get(usize::from(id.0)).copied().unwrap_or(false)
    }
    fn raise(&mut self, ts: Time, ev: &dyn Event, logs: &mut Logs) {
        logs.capture_event(self.index, ts, ev.to_send());
    }
}

/// The set of subscribed events, the sinks they go to and the logs the
/// sinks write.
pub struct Events {
    interest: Vec<u64>,
    /// For each event id, the sinks that want it, in subscription order: an
    /// event goes straight to them instead of asking every sink each time.
    routes: Vec<Vec<u16>>,
    sinks: Vec<Box<dyn EventSink>>,
    logs: Logs,
    /// Connections announced since the engine last looked (`expect` in a grammar).
    scheduled: Vec<crate::expected::Expectation>,
    /// The file analyzers protocol analyzers hand files to (`file` in a grammar).
    file_analyzers: Vec<crate::files::FileAnalyzerSpec>,
    /// Events raised to at least one sink (Zeek's dispatched events).
    dispatched: u64,
}

impl Default for Events {
    fn default() -> Self {
        Events::new()
    }
}

impl Events {
    /// Events whose sinks write no logs.
    pub fn new() -> Events {
        Events::with_logs(Logs::disabled())
    }

    /// Events whose sinks write their logs to `logs`.
    pub fn with_logs(logs: Logs) -> Events {
        Events {
            interest: vec![0; EVENT_COUNT.div_ceil(64)],
            routes: vec![Vec::new(); EVENT_COUNT],
            sinks: Vec::new(),
            logs,
            scheduled: Vec::new(),
            file_analyzers: Vec::new(),
            dispatched: 0,
        }
    }

    /// The file analyzers `file_data` hands files to (the engine sets its registry's).
    pub fn set_file_analyzers(&mut self, analyzers: Vec<crate::files::FileAnalyzerSpec>) {
        self.file_analyzers = analyzers;
    }

    /// A protocol analyzer hands over a whole file for the file analyzer `tag`
    /// (`file X509 = ...` in a grammar); without such an analyzer it is dropped.
    pub fn file_data(&mut self, tag: &str, file: &crate::files::FileData<'_, '_>) {
        let found = self.file_analyzers.iter().find(|a| a.tag == tag).map(|a| a.analyze);
        if let Some(analyze) = found {
            analyze(self, file);
        }
    }

    /// Events raised to a sink so far.
    pub fn dispatched(&self) -> u64 {
        self.dispatched
    }

    /// The logs the sinks write (for rotation).
    pub fn logs_mut(&mut self) -> &mut Logs {
        &mut self.logs
    }

    pub fn subscribe(&mut self, sink: Box<dyn EventSink>) {
        let index = u16::try_from(self.sinks.len()).expect("fewer than 65536 sinks");
        for i in 0..EVENT_COUNT {
            if sink.wants(EventId(i as u16)) {
                self.interest[i / 64] |= 1 << (i % 64);
                self.routes[i].push(index);
            }
        }
        self.sinks.push(sink);
    }

    #[inline]
    pub fn wants(&self, id: EventId) -> bool {
        let i = id.0 as usize;
        self.interest
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Announces a connection that will come (Zeek's `Analyzer::schedule_analyzer`);
    /// the engine takes it before the next connection starts. At most
    /// [`crate::expected::MAX_EXPECTED`] wait here; past that the newest is dropped
    /// (the engine's table keeps the newest of what it takes).
    pub fn schedule(&mut self, e: crate::expected::Expectation) {
        if self.scheduled.len() < crate::expected::MAX_EXPECTED {
            self.scheduled.push(e);
        }
    }

    /// The announced connections not yet taken, oldest first.
    pub fn take_scheduled(&mut self) -> std::vec::Drain<'_, crate::expected::Expectation> {
        self.scheduled.drain(..)
    }

    pub fn raise(&mut self, ts: Time, ev: &dyn Event) {
        let Some(route) = self.routes.get(usize::from(ev.id().0)) else {
            return;
        };
        self.dispatched += 1;
        // Zeek's network time never reads below 1.0 s: a trace stamped near the
        // epoch (interop captures) gets logs whose `network_time()` columns say
        // 1.000000 until its packets pass it (seen with Zeek 8.2.2: ssl.log and
        // dns.log of a trace shifted to 0.3 s), while conn.log keeps the
        // packets' own times.
        let ts = ts.max(NETWORK_TIME_FLOOR);
        for &i in route {
            self.sinks[usize::from(i)].raise(ts, ev, &mut self.logs);
        }
    }

    /// Finishes every sink, then closes the logs; the first error, if any,
    /// after all were finished.
    pub fn finish(&mut self) -> std::io::Result<()> {
        finish_sinks(&mut self.sinks, &mut self.logs)
    }
}

/// Finishes every sink in order, then closes `logs`; the first error, if
/// any, after all were finished.
pub fn finish_sinks(sinks: &mut [Box<dyn EventSink>], logs: &mut Logs) -> std::io::Result<()> {
    let mut first = Ok(());
    for s in sinks {
        if let Err(e) = s.finish(logs) {
            if first.is_ok() {
                first = Err(e);
            }
        }
    }
    let closed = logs.close();
    first.and(closed)
}

/// The least network time events carry (Zeek's `network_time()` starts at 1.0).
pub const NETWORK_TIME_FLOOR: Time = Time(1_000_000_000);

type Handler<S> = Box<dyn Fn(&mut S, Time, &dyn Event, &mut Logs)>;

/// A sink made of one typed handler per event: dispatch goes by event id to
/// the handler for that type, so a consumer never tests types one by one.
///
/// ```ignore
/// let sink = EventHandlers::new(DnsLog::default())
///     .on::<DnsRequest>(|log, ts, e, logs| log.request(ts, e))
///     .on_finish(|log, logs| log.flush(logs));
/// ```
pub struct EventHandlers<S> {
    state: S,
    handlers: Vec<Option<Handler<S>>>,
    finish: Option<fn(&mut S, &mut Logs) -> std::io::Result<()>>,
}

impl<S: 'static> EventHandlers<S> {
    pub fn new(state: S) -> Self {
        EventHandlers {
            state,
            handlers: (0..EVENT_COUNT).map(|_| None).collect(),
            finish: None,
        }
    }

    /// Handles events of type `E`.
    pub fn on<E: TypedEvent + 'static>(mut self, handler: fn(&mut S, Time, &E, &mut Logs)) -> Self {
        self.handlers[E::ID.0 as usize] = Some(Box::new(move |state, ts, ev, logs| {
            // The id matched, so the type does; anything else is a bug in define_event!.
            let ev = ev
                .as_any()
                .downcast_ref::<E>()
                .expect("event id and type agree");
            handler(state, ts, ev, logs)
        }));
        self
    }

    /// Called at the end of input, before the logs are closed.
    pub fn on_finish(mut self, finish: fn(&mut S, &mut Logs) -> std::io::Result<()>) -> Self {
        self.finish = Some(finish);
        self
    }

    pub fn state(&self) -> &S {
        &self.state
    }
}

impl<S: 'static> EventSink for EventHandlers<S> {
    fn wants(&self, id: EventId) -> bool {
        self.handlers
            .get(id.0 as usize)
            .is_some_and(Option::is_some)
    }
    fn raise(&mut self, ts: Time, ev: &dyn Event, logs: &mut Logs) {
        if let Some(Some(handler)) = self.handlers.get(ev.id().0 as usize) {
            handler(&mut self.state, ts, ev, logs);
        }
    }
    fn finish(&mut self, logs: &mut Logs) -> std::io::Result<()> {
        match self.finish {
            Some(finish) => finish(&mut self.state, logs),
            None => Ok(()),
        }
    }
}

/// Writes every event it subscribes to as one JSON line:
/// `{"ts": 1254722767.492060, "event": "connection_established", "args": {...}}`.
pub struct JsonLinesSink<W: std::io::Write> {
    out: W,
    filter: Option<Vec<bool>>,
    /// The first write error: later events are not written, and `finish` reports it.
    error: Option<std::io::Error>,
}

impl<W: std::io::Write> JsonLinesSink<W> {
    /// All events.
    pub fn new(out: W) -> Self {
        JsonLinesSink {
            out,
            filter: None,
            error: None,
        }
    }
    /// Only the named events.
    pub fn only(out: W, names: &[&str]) -> Self {
        let mut filter = vec![false; EVENT_COUNT];
        for n in names {
            if let Some(id) = EventId::by_name(n) {
                filter[id.0 as usize] = true;
            }
        }
        JsonLinesSink {
            out,
            filter: Some(filter),
            error: None,
        }
    }
}

impl<W: std::io::Write> EventSink for JsonLinesSink<W> {
    fn wants(&self, id: EventId) -> bool {
        self.filter.as_ref().is_none_or(|f| f[id.0 as usize])
    }
    fn raise(&mut self, ts: Time, ev: &dyn Event, _logs: &mut Logs) {
        if self.error.is_some() {
            return;
        }
        // {"ts": ..., "event": "...", "args": {...}} without building a Value tree.
        let out = &mut self.out;
        let written = out
            .write_all(b"{\"ts\":")
            .and_then(|()| serde_json::to_writer(&mut *out, &ts).map_err(std::io::Error::from))
            .and_then(|()| write!(out, ",\"event\":\"{}\",\"args\":", ev.id().name()))
            .and_then(|()| ev.write_args_json(&mut *out).map_err(std::io::Error::from))
            .and_then(|()| out.write_all(b"}\n"));
        if let Err(e) = written {
            self.error = Some(e);
        }
    }
    fn finish(&mut self, _logs: &mut Logs) -> std::io::Result<()> {
        match self.error.take() {
            Some(e) => Err(std::io::Error::new(
                e.kind(),
                format!("writing events: {e}"),
            )),
            None => self.out.flush(),
        }
    }
}

/// Collects events in memory (tests and snapshot reviews).
#[derive(Default, Clone)]
pub struct Recorded(pub std::rc::Rc<std::cell::RefCell<Vec<serde_json::Value>>>);

/// A sink that appends to a shared [`Recorded`] list.
pub struct RecordingSink {
    pub into: Recorded,
    pub filter: Option<Vec<&'static str>>,
}

impl EventSink for RecordingSink {
    fn wants(&self, id: EventId) -> bool {
        self.filter.as_ref().is_none_or(|f| f.contains(&id.name()))
    }
    fn raise(&mut self, ts: Time, ev: &dyn Event, _logs: &mut Logs) {
        self.into
            .0
            .borrow_mut()
            .push(serde_json::json!({ "ts": ts, "event": ev.id().name(), "args": ev.args_json() }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zeek::ZString;

    define_event!(
        NetWeird = NET_WEIRD {
            name: ZString,
            addl: ZString
        }
    );

    #[test]
    fn unsubscribed_events_are_not_built() {
        let mut events = Events::new();
        let mut built = false;
        raise!(
            &mut events,
            Time(0),
            NetWeird {
                name: {
                    built = true;
                    ZString::from("x")
                },
                addl: ZString::default()
            }
        );
        assert!(!built);
    }

    #[test]
    fn subscribed_events_reach_the_sink() {
        let rec = Recorded::default();
        let mut events = Events::new();
        events.subscribe(Box::new(RecordingSink {
            into: rec.clone(),
            filter: Some(vec!["net_weird"]),
        }));
        raise!(
            &mut events,
            Time(1_500_000_000),
            NetWeird {
                name: "bad".into(),
                addl: ZString::default()
            }
        );
        let got = rec.0.borrow();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0]["event"], "net_weird");
        assert_eq!(got[0]["args"]["name"], "bad");
        assert_eq!(got[0]["ts"], 1.5);
    }

    #[test]
    fn every_spec_event_has_an_id() {
        assert_eq!(
            EventId::by_name("dns_A_reply").map(|i| i.name()),
            Some("dns_A_reply")
        );
        assert!(EVENT_COUNT >= 511);
    }
}
