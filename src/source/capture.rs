//! The capture thread: owns the source, reads into pooled buffers and sends [`Block`]s over
//! a bounded channel. It never waits for the consumer: when the channel is full (or every
//! pooled buffer is in flight) the block is dropped and counted
//! (`ssbguard_capture_dropped_samples_total{reason="queue_full"}`); the gap it leaves in the
//! sample index tells the consumer. Device loss is retried with exponential backoff.
//!
//! Accounting: every sample the source delivers is counted in `samples`; it is then either
//! sent (and counted by the consumer when processed) or counted in `dropped_queue_full`.
//! Samples the device lost before delivering them (`overflow`) or that were unusable
//! (`bad_data`) never entered `samples`.
//!
//! Buffers ([`BufferPool`]) are allocated on first need, up to one per queue slot plus the
//! two in hand, and reused last-in first-out: at steady state the one or two buffers in
//! flight are the ones reused, so they stay in the CPU cache for the decode (capture
//! thread) and for the pipeline (DSP thread). Free buffers beyond [`POOL_RESERVE`] are
//! released, so a deep queue costs memory only while it is really used (a burst of DSP
//! work), and the resident size returns to the steady state after it.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError, TrySendError};
use num_complex::Complex32;
use prometheus::IntCounter;

use super::{IqSource, SourceError, SourceInfo};

/// One block of samples.
#[derive(Debug)]
pub struct Block {
    /// Absolute index of `samples[0]`.
    pub first_sample: u64,
    /// The samples (a pooled buffer: hand it back with [`BlockReceiver::recycle`]).
    pub samples: Vec<Complex32>,
    /// Something was lost or jumped just before this block (also visible as a gap).
    pub discontinuity: bool,
    /// When the capture thread had the samples.
    pub captured_at: Instant,
}

/// Capture settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CaptureConfig {
    /// Samples per block.
    pub block_samples: usize,
    /// Blocks the channel holds.
    pub queue_blocks: usize,
    /// First reopen delay after device loss.
    pub reopen_initial: Duration,
    /// Longest reopen delay.
    pub reopen_max: Duration,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            block_samples: 1 << 16,
            queue_blocks: 32,
            reopen_initial: Duration::from_millis(500),
            reopen_max: Duration::from_secs(30),
        }
    }
}

/// The counters the capture thread bumps (registered by the daemon's metrics module; the
/// default is a set of unregistered counters).
#[derive(Clone, Debug)]
pub struct CaptureMetrics {
    /// Samples delivered by the source.
    pub samples: IntCounter,
    /// Samples dropped because the consumer was behind.
    pub dropped_queue_full: IntCounter,
    /// Samples the device lost (known count).
    pub dropped_overflow: IntCounter,
    /// Samples skipped as unusable.
    pub dropped_bad_data: IntCounter,
    /// Overflow reports from the device.
    pub overflows: IntCounter,
    /// Reads that timed out.
    pub timeouts: IntCounter,
    /// Successful reopens after device loss.
    pub reopens: IntCounter,
    /// Device losses.
    pub device_losses: IntCounter,
}

fn counter(name: &str) -> IntCounter {
    // Constant, valid names: cannot fail.
    IntCounter::new(name, name).unwrap_or_else(|e| panic!("counter {name}: {e}"))
}

impl Default for CaptureMetrics {
    fn default() -> Self {
        CaptureMetrics {
            samples: counter("samples"),
            dropped_queue_full: counter("dropped_queue_full"),
            dropped_overflow: counter("dropped_overflow"),
            dropped_bad_data: counter("dropped_bad_data"),
            overflows: counter("overflows"),
            timeouts: counter("timeouts"),
            reopens: counter("reopens"),
            device_losses: counter("device_losses"),
        }
    }
}

/// What the capture thread is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureState {
    /// Started, no block yet.
    Starting,
    /// Samples flow.
    Streaming,
    /// The device is gone; reopening with backoff.
    Reopening,
    /// The source ended (a file without loop).
    Ended,
    /// Fatal source error; the thread has exited.
    Failed,
    /// Stopped on request.
    Stopped,
}

impl CaptureState {
    fn from_u8(v: u8) -> CaptureState {
        match v {
            0 => CaptureState::Starting,
            1 => CaptureState::Streaming,
            2 => CaptureState::Reopening,
            3 => CaptureState::Ended,
            4 => CaptureState::Failed,
            _ => CaptureState::Stopped,
        }
    }
    fn as_u8(self) -> u8 {
        self as u8
    }
}

struct Shared {
    state: AtomicU8,
    info: Mutex<SourceInfo>,
    last_error: Mutex<Option<String>>,
}

impl Shared {
    fn set_state(&self, s: CaptureState) {
        self.state.store(s.as_u8(), Ordering::Release);
    }
    fn set_error(&self, e: String) {
        if let Ok(mut g) = self.last_error.lock() {
            *g = Some(e);
        }
    }
}

/// Free buffers a [`BufferPool`] keeps for reuse; more are released. 32 blocks cover the
/// queue's usual swings (a re-acquisition window, a scheduler hiccup), so at steady state
/// nothing is allocated or released and the resident size stays flat; only a deeper burst
/// allocates more, and gives it back afterwards.
pub const POOL_RESERVE: usize = 32;

/// Capture buffers: allocated lazily up to `limit`, reused last-in first-out, free ones
/// beyond [`POOL_RESERVE`] released.
pub struct BufferPool {
    free: Mutex<Vec<Vec<Complex32>>>,
    allocated: AtomicUsize,
    limit: usize,
    block: usize,
}

impl BufferPool {
    /// A pool of at most `limit` buffers of `block` samples.
    pub fn new(limit: usize, block: usize) -> BufferPool {
        BufferPool {
            free: Mutex::new(Vec::with_capacity(limit)),
            allocated: AtomicUsize::new(0),
            limit,
            block: block.max(1),
        }
    }

    /// The most recently returned buffer, a new one while fewer than `limit` exist, or
    /// `None` when every buffer is in flight.
    pub fn take(&self) -> Option<Vec<Complex32>> {
        if let Some(b) = self.free.lock().ok().and_then(|mut g| g.pop()) {
            return Some(b);
        }
        self.allocated
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .ok()
            .map(|_| vec![Complex32::new(0.0, 0.0); self.block])
    }

    /// Returns a buffer taken from this pool (released if enough are free).
    pub fn give(&self, buf: Vec<Complex32>) {
        let kept = self
            .free
            .lock()
            .ok()
            .and_then(|mut g| (g.len() < POOL_RESERVE).then(|| g.push(buf)));
        if kept.is_none() {
            self.allocated.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Buffers that exist now (free or in flight).
    pub fn allocated(&self) -> usize {
        self.allocated.load(Ordering::Acquire)
    }
}

/// The consumer's end: blocks in, buffers back.
pub struct BlockReceiver {
    rx: Receiver<Block>,
    pool: Arc<BufferPool>,
}

impl BlockReceiver {
    /// The next block, waiting at most `timeout`. `Disconnected` once the capture thread
    /// has exited and every block has been received.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Block, RecvTimeoutError> {
        self.rx.recv_timeout(timeout)
    }

    /// Hands a block's buffer back to the pool.
    pub fn recycle(&self, block: Block) {
        self.pool.give(block.samples);
    }

    /// The capture buffers.
    pub fn pool(&self) -> &BufferPool {
        &self.pool
    }

    /// Blocks waiting in the channel.
    pub fn queued(&self) -> usize {
        self.rx.len()
    }
}

/// Control of a running capture thread.
pub struct CaptureHandle {
    shared: Arc<Shared>,
    stop: Mutex<Option<Sender<()>>>,
    done: Receiver<()>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl CaptureHandle {
    /// Starts the capture thread on `source`.
    pub fn spawn(
        source: Box<dyn IqSource>,
        cfg: CaptureConfig,
        metrics: CaptureMetrics,
    ) -> std::io::Result<(CaptureHandle, BlockReceiver)> {
        let queue = cfg.queue_blocks.max(1);
        let (tx, rx) = crossbeam_channel::bounded::<Block>(queue);
        // The pool holds every buffer that can be in flight: the queue, the one the
        // consumer works on and the one being filled.
        let pool = Arc::new(BufferPool::new(queue + 2, cfg.block_samples));
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(0);
        let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(0);
        let shared = Arc::new(Shared {
            state: AtomicU8::new(CaptureState::Starting.as_u8()),
            info: Mutex::new(source.info().clone()),
            last_error: Mutex::new(None),
        });
        let sh = shared.clone();
        let cap_pool = pool.clone();
        let thread = std::thread::Builder::new()
            .name("ssbguard-capture".into())
            .spawn(move || {
                let _done = done_tx; // dropped on exit, whatever the path
                let mut cap = Capture {
                    source,
                    cfg,
                    m: metrics,
                    tx,
                    pool: cap_pool,
                    stop: stop_rx,
                    shared: sh,
                };
                cap.run();
            })?;
        Ok((
            CaptureHandle {
                shared,
                stop: Mutex::new(Some(stop_tx)),
                done: done_rx,
                thread: Mutex::new(Some(thread)),
            },
            BlockReceiver { rx, pool },
        ))
    }

    /// What the thread is doing.
    pub fn state(&self) -> CaptureState {
        CaptureState::from_u8(self.shared.state.load(Ordering::Acquire))
    }

    /// The source as last opened (readback).
    pub fn info(&self) -> Option<SourceInfo> {
        self.shared.info.lock().ok().map(|g| g.clone())
    }

    /// The last source error, if any.
    pub fn last_error(&self) -> Option<String> {
        self.shared.last_error.lock().ok().and_then(|g| g.clone())
    }

    /// Asks the thread to stop (returns at once).
    pub fn stop(&self) {
        if let Ok(mut g) = self.stop.lock() {
            g.take();
        }
    }

    /// Stops and waits for the thread up to `deadline`; true if it exited in time.
    pub fn join(&self, deadline: Duration) -> bool {
        self.stop();
        let exited = matches!(
            self.done.recv_timeout(deadline),
            Err(RecvTimeoutError::Disconnected) | Ok(())
        );
        if exited
            && let Ok(mut g) = self.thread.lock()
            && let Some(t) = g.take()
        {
            let _ = t.join();
        }
        exited
    }

    /// Whether the thread has exited.
    pub fn is_finished(&self) -> bool {
        matches!(self.done.try_recv(), Err(TryRecvError::Disconnected))
    }
}

impl Drop for CaptureHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Capture {
    source: Box<dyn IqSource>,
    cfg: CaptureConfig,
    m: CaptureMetrics,
    tx: Sender<Block>,
    pool: Arc<BufferPool>,
    stop: Receiver<()>,
    shared: Arc<Shared>,
}

impl Capture {
    fn stopping(&self) -> bool {
        matches!(self.stop.try_recv(), Err(TryRecvError::Disconnected))
    }

    fn run(&mut self) {
        // Used when every pooled buffer is in flight: read anyway (a device must be
        // drained) and drop.
        let mut scratch = vec![Complex32::new(0.0, 0.0); self.cfg.block_samples.max(1)];
        let mut pending_discontinuity = false;
        let mut streaming = false;
        loop {
            if self.stopping() {
                self.shared.set_state(CaptureState::Stopped);
                return;
            }
            let pooled = self.pool.take();
            let from_pool = pooled.is_some();
            let mut buf = pooled.unwrap_or_else(|| std::mem::take(&mut scratch));
            buf.resize(self.cfg.block_samples.max(1), Complex32::new(0.0, 0.0));
            let result = self.source.read(&mut buf);
            let captured_at = Instant::now();
            match result {
                Ok(r) if r.end => {
                    tracing::info!(sample = r.first_sample, "source ended");
                    self.shared.set_state(CaptureState::Ended);
                    return;
                }
                Ok(r) => {
                    if r.lost_before > 0 {
                        self.m.dropped_overflow.inc_by(r.lost_before);
                        pending_discontinuity = true;
                    }
                    if r.overflow {
                        self.m.overflows.inc();
                        pending_discontinuity = true;
                    }
                    if r.samples == 0 {
                        self.give_back(buf, from_pool, &mut scratch);
                        continue;
                    }
                    if !streaming {
                        streaming = true;
                        // A device opens on its first read: publish its readback.
                        if let Ok(mut g) = self.shared.info.lock() {
                            *g = self.source.info().clone();
                        }
                        self.shared.set_state(CaptureState::Streaming);
                    }
                    self.m.samples.inc_by(r.samples as u64);
                    if !from_pool {
                        self.m.dropped_queue_full.inc_by(r.samples as u64);
                        pending_discontinuity = true;
                        scratch = buf;
                        continue;
                    }
                    buf.truncate(r.samples);
                    let block = Block {
                        first_sample: r.first_sample,
                        samples: buf,
                        discontinuity: pending_discontinuity,
                        captured_at,
                    };
                    match self.tx.try_send(block) {
                        Ok(()) => pending_discontinuity = false,
                        Err(TrySendError::Full(b)) => {
                            self.m.dropped_queue_full.inc_by(b.samples.len() as u64);
                            pending_discontinuity = true;
                            // Keep the buffer in circulation.
                            self.give_back(b.samples, true, &mut scratch);
                        }
                        Err(TrySendError::Disconnected(_)) => {
                            self.shared.set_state(CaptureState::Stopped);
                            return;
                        }
                    }
                }
                Err(e) => {
                    self.give_back(buf, from_pool, &mut scratch);
                    match e {
                        SourceError::Timeout { .. } => self.m.timeouts.inc(),
                        SourceError::BadSamples { lost, ref message } => {
                            self.m.dropped_bad_data.inc_by(lost);
                            pending_discontinuity = true;
                            tracing::warn!(lost, message = %message, "unusable samples skipped");
                        }
                        e if e.is_recoverable() => {
                            streaming = false;
                            pending_discontinuity = true;
                            if !self.reopen(e) {
                                return;
                            }
                        }
                        e => {
                            tracing::error!(error = %e, "source failed");
                            self.shared.set_error(e.to_string());
                            self.shared.set_state(CaptureState::Failed);
                            return;
                        }
                    }
                }
            }
        }
    }

    fn give_back(&self, buf: Vec<Complex32>, from_pool: bool, scratch: &mut Vec<Complex32>) {
        if from_pool {
            self.pool.give(buf);
        } else {
            *scratch = buf;
        }
    }

    /// Reopens after a device loss with exponential backoff. Returns false (with the state
    /// set) when asked to stop meanwhile or when the source cannot be reopened.
    fn reopen(&mut self, first: SourceError) -> bool {
        self.m.device_losses.inc();
        tracing::warn!(error = %first, "source lost; reopening with backoff");
        self.shared.set_error(first.to_string());
        self.shared.set_state(CaptureState::Reopening);
        let mut delay = self.cfg.reopen_initial;
        let mut attempts = 0u32;
        loop {
            match self.stop.recv_timeout(delay) {
                Err(RecvTimeoutError::Timeout) => {}
                _ => {
                    self.shared.set_state(CaptureState::Stopped);
                    return false;
                }
            }
            attempts += 1;
            match self.source.reopen() {
                Ok(()) => {
                    self.m.reopens.inc();
                    if let Ok(mut g) = self.shared.info.lock() {
                        *g = self.source.info().clone();
                    }
                    tracing::info!(attempts, "source reopened");
                    return true;
                }
                Err(e) if e.is_recoverable() => {
                    self.shared.set_error(e.to_string());
                    delay = (delay * 2).min(self.cfg.reopen_max);
                }
                Err(e) => {
                    tracing::error!(error = %e, "source cannot be reopened");
                    self.shared.set_error(e.to_string());
                    self.shared.set_state(CaptureState::Failed);
                    return false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_allocates_lazily_up_to_its_limit_and_reuses_the_latest_buffer() {
        let pool = BufferPool::new(3, 8);
        assert_eq!(pool.allocated(), 0, "nothing allocated up front");
        let mut a = pool.take().expect("first");
        a[0] = Complex32::new(1.0, 0.0);
        let b = pool.take().expect("second");
        assert_eq!(pool.allocated(), 2);
        pool.give(b);
        pool.give(a);
        // Last in, first out: `a` comes back, and no new buffer is made.
        let again = pool.take().expect("reused");
        assert_eq!(again[0].re, 1.0);
        assert_eq!(pool.allocated(), 2);
        let (c, d) = (pool.take().expect("b"), pool.take().expect("third"));
        assert_eq!(pool.allocated(), 3);
        assert!(pool.take().is_none(), "every buffer in flight");
        for b in [again, c, d] {
            pool.give(b);
        }
        // Beyond the reserve, returned buffers are released.
        let n = POOL_RESERVE + 6;
        let big = BufferPool::new(n, 8);
        let all: Vec<_> = (0..n)
            .map(|_| big.take().expect("under the limit"))
            .collect();
        assert!(big.take().is_none());
        for b in all {
            big.give(b);
        }
        assert_eq!(
            big.allocated(),
            POOL_RESERVE,
            "released down to the reserve"
        );
        assert!(big.take().is_some());
    }
}
