//! Kafka export (`--kafka BROKERS`): every log row as a JSON message (Zeek's
//! JSON of the row) to a topic per log, `<prefix><path>` (`conn`, `dns`, ...),
//! the layout of the zeek-kafka plugin with its `topic_name` left empty.
//! Produced through librdkafka (the `rdkafka` crate).
//!
//! The producer's buffer is bounded ([`KafkaOptions::buffer_mb`]). When it is
//! full (a slow or absent broker) a row waits up to a second for room, then
//! is dropped and counted; rows the broker does not take within
//! [`KafkaOptions::timeout`] fail and are counted. At the end of the run the
//! producer is flushed and, if any row was not delivered, the run fails with
//! the counts and the broker's last error.

use netpac_runtime::log::{RowSink, Schema};
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;
use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct KafkaOptions {
    /// Put before each log's path to name its topic.
    pub topic_prefix: String,
    /// Most the producer buffers (librdkafka's `queue.buffering.max.kbytes`).
    pub buffer_mb: u32,
    /// How long a row may wait for the broker (`message.timeout.ms`), and
    /// how long the end of the run waits for the rows still buffered.
    pub timeout: Duration,
    /// librdkafka properties set after netpac's own (TLS and SASL settings,
    /// `client.id`, `compression.type`, ...), as `ClientConfig::set` takes them.
    pub properties: Vec<(String, String)>,
}

impl Default for KafkaOptions {
    fn default() -> Self {
        KafkaOptions {
            topic_prefix: String::new(),
            buffer_mb: 64,
            timeout: Duration::from_secs(30),
            properties: Vec::new(),
        }
    }
}

/// What the delivery reports said, shared with librdkafka's callbacks.
#[derive(Default)]
struct Reports {
    delivered: AtomicU64,
    failed: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Reports {
    fn error(&self, e: String) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(e);
        }
    }
}

struct Context(Arc<Reports>);

impl ClientContext for Context {
    /// Kept for the end-of-run message instead of printed as it comes: a
    /// broker that is down would otherwise repeat itself on every retry.
    fn error(&self, error: KafkaError, reason: &str) {
        self.0.error(format!("{error}: {reason}"));
    }
}

impl ProducerContext for Context {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.0.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.0.failed.fetch_add(1, Ordering::Relaxed);
                self.0.error(e.to_string());
            }
        }
    }
}

pub struct KafkaSink {
    brokers: String,
    producer: BaseProducer<Context>,
    reports: Arc<Reports>,
    options: KafkaOptions,
    topics: HashMap<&'static str, String>,
    sent: u64,
    dropped: u64,
    /// Set after a row was dropped: the next full buffer drops at once
    /// instead of stalling every row for a broker that is gone.
    broker_stalled: bool,
    since_poll: u32,
}

impl KafkaSink {
    /// A producer for `brokers` (`host:port[,host:port...]`). The
    /// connection itself is made in the background; an unreachable broker
    /// shows in the counts at the end.
    pub fn connect(brokers: &str, options: KafkaOptions) -> Result<KafkaSink, String> {
        let reports = Arc::new(Reports::default());
        let timeout_ms = options.timeout.as_millis().clamp(1, i32::MAX as u128);
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", brokers)
            .set(
                "queue.buffering.max.kbytes",
                (u64::from(options.buffer_mb) * 1024).to_string(),
            )
            .set("queue.buffering.max.messages", "1000000")
            .set("message.timeout.ms", timeout_ms.to_string())
            .set("linger.ms", "20");
        for (key, value) in &options.properties {
            config.set(key, value);
        }
        let producer: BaseProducer<Context> = config
            .create_with_context(Context(reports.clone()))
            .map_err(|e| format!("--kafka {brokers}: {e}"))?;
        Ok(KafkaSink {
            brokers: brokers.to_string(),
            producer,
            reports,
            options,
            topics: HashMap::new(),
            sent: 0,
            dropped: 0,
            broker_stalled: false,
            since_poll: 0,
        })
    }
}

impl RowSink for KafkaSink {
    fn row(&mut self, schema: &'static Schema, json: &[u8]) {
        let prefix = &self.options.topic_prefix;
        let topic = self
            .topics
            .entry(schema.path)
            .or_insert_with(|| format!("{prefix}{}", schema.path));
        let mut record = BaseRecord::<(), [u8]>::to(topic).payload(json);
        let wait_until =
            Instant::now() + Duration::from_secs(if self.broker_stalled { 0 } else { 1 });
        loop {
            match self.producer.send(record) {
                Ok(()) => {
                    self.sent += 1;
                    self.broker_stalled = false;
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                    if Instant::now() < wait_until =>
                {
                    // Serve delivery reports, which frees room.
                    self.producer.poll(Duration::from_millis(50));
                    record = back;
                }
                Err((e, _)) => {
                    self.dropped += 1;
                    self.broker_stalled = true;
                    self.reports.error(format!("producer buffer: {e}"));
                    break;
                }
            }
        }
        self.since_poll += 1;
        if self.since_poll >= 1024 {
            self.since_poll = 0;
            self.producer.poll(Duration::ZERO);
        }
    }

    fn close(&mut self) -> io::Result<()> {
        let flushed = self.producer.flush(self.options.timeout);
        self.producer.poll(Duration::ZERO);
        let delivered = self.reports.delivered.load(Ordering::Relaxed);
        let failed = self.reports.failed.load(Ordering::Relaxed);
        let pending = self.sent.saturating_sub(delivered + failed);
        let total = self.sent + self.dropped;
        eprintln!(
            "netpac: kafka {}: {delivered} of {total} log rows delivered",
            self.brokers
        );
        if failed + pending + self.dropped == 0 {
            return Ok(());
        }
        let last = self
            .reports
            .last_error
            .lock()
            .ok()
            .and_then(|l| l.clone())
            .or_else(|| flushed.err().map(|e| e.to_string()))
            .unwrap_or_else(|| "no error reported".into());
        Err(io::Error::other(format!(
            "kafka {}: {} of {total} log rows not delivered ({failed} refused or timed out, {} dropped with the producer's buffer full, {pending} still buffered after {} s); last error: {last}",
            self.brokers,
            failed + pending + self.dropped,
            self.dropped,
            self.options.timeout.as_secs_f64(),
        )))
    }
}
