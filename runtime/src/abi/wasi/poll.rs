//! `poll_oneoff`: waits for clock subscriptions and reports handle readiness.
//!
//! Every handle tern has is always ready (files are, and streams block in the read or write itself),
//! so a subscription on a handle is reported at once and the call never sleeps then. With only
//! clock subscriptions the call sleeps until the earliest one fires — or until the run's wall-clock
//! deadline, which ends the guest as a timeout, or the run's interrupt, which ends it as
//! interrupted, as `runtime_msleep` does.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::clock::{MONOTONIC, REALTIME};
use super::fd::node;
use super::{bytes, check, errno, get_u32, get_u64, put, put_u32, Errno, Imports, C, R};
use crate::abi::with_memory;
use crate::process::Process;
use crate::scheme::dir::Node;
use crate::trap::{Deadline, Interrupted};

/// Bytes in a `subscription` and an `event`.
const SUBSCRIPTION: u32 = 48;
const EVENT: u32 = 32;
/// `eventtype` values.
const CLOCK: u8 = 0;
const FD_READ: u8 = 1;
const FD_WRITE: u8 = 2;
/// `subclockflags`: the timeout is an absolute time of the clock.
const ABSTIME: u16 = 1;

pub(super) fn link(imports: &mut Imports<'_>, m: &'static str) {
    imports.func(m, "poll_oneoff", poll_oneoff);
}

fn poll_oneoff(mut c: C, subs: i32, events: i32, n: i32, out: i32) -> Result<i32, wasmi::Error> {
    let (subs, events, n, out) = (subs as u32, events as u32, n as u32, out as u32);
    with_memory(&mut c, |mem, p| match poll(mem, p, subs, events, n, out) {
        Ok(Ok(())) => Ok(0),
        Ok(Err(e)) => Ok(i32::from(e)),
        Err(stop) => Err(stop),
    })
}

/// One subscription, read from guest memory.
struct Sub {
    userdata: u64,
    what: What,
}

enum What {
    /// A clock subscription firing at this instant.
    Clock(Instant),
    /// A handle subscription: event type and bytes available.
    Fd(u8, u64),
}

/// The outer result ends the run (its deadline or its interrupt came while asleep); the inner one
/// is the guest's errno.
fn poll(
    mem: &mut [u8],
    p: &mut Process,
    subs_ptr: u32,
    events_ptr: u32,
    n: u32,
    out: u32,
) -> Result<R, wasmi::Error> {
    if n == 0 {
        // Waiting for nothing would wait forever (as wasmtime, refused).
        return Ok(Err(errno::INVAL));
    }
    let checked = (|| {
        check(mem, out, 4)?;
        check(
            mem,
            subs_ptr,
            n.checked_mul(SUBSCRIPTION).ok_or(errno::FAULT)?,
        )?;
        check(mem, events_ptr, n.checked_mul(EVENT).ok_or(errno::FAULT)?)
    })();
    if let Err(e) = checked {
        return Ok(Err(e));
    }
    let subs = match (0..n)
        .map(|i| read_sub(mem, p, subs_ptr + i * SUBSCRIPTION))
        .collect::<R<Vec<Sub>>>()
    {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let any_fd = subs.iter().any(|s| matches!(s.what, What::Fd(..)));
    if !any_fd {
        let earliest = subs
            .iter()
            .filter_map(|s| match s.what {
                What::Clock(at) => Some(at),
                What::Fd(..) => None,
            })
            .min()
            .unwrap_or_else(Instant::now);
        sleep_until(p, earliest)?;
    }
    let now = Instant::now();
    let mut count = 0u32;
    for sub in &subs {
        let (kind, nbytes) = match sub.what {
            What::Clock(at) if at <= now => (CLOCK, 0),
            What::Clock(_) => continue,
            What::Fd(kind, nbytes) => (kind, nbytes),
        };
        let mut event = [0u8; EVENT as usize];
        event[0..8].copy_from_slice(&sub.userdata.to_le_bytes());
        event[10] = kind;
        event[16..24].copy_from_slice(&nbytes.to_le_bytes());
        if let Err(e) = put(mem, events_ptr + count * EVENT, &event) {
            return Ok(Err(e));
        }
        count += 1;
    }
    Ok(put_u32(mem, out, count))
}

/// Reads the subscription at `at` and works out when (clock) or how (handle) it is ready.
fn read_sub(mem: &[u8], p: &mut Process, at: u32) -> R<Sub> {
    let userdata = get_u64(mem, at)?;
    let tag = bytes(mem, at + 8, 1)?[0];
    let what = match tag {
        CLOCK => {
            let id = get_u32(mem, at + 16)?;
            let timeout = get_u64(mem, at + 24)?;
            let flags =
                u16::from_le_bytes([bytes(mem, at + 40, 2)?[0], bytes(mem, at + 41, 1)?[0]]);
            What::Clock(fires_at(p, id, timeout, flags & ABSTIME != 0)?)
        }
        FD_READ | FD_WRITE => {
            let fd = get_u32(mem, at + 16)? as i32;
            let nbytes = match node(p, fd)? {
                // A file can be read up to its end from where it is.
                Some(Node::File(f)) if tag == FD_READ => {
                    let size = f.stat().map_err(|e| super::from_io(&e))?.size;
                    let pos = f
                        .seek(std::io::SeekFrom::Current(0))
                        .map_err(|e| super::from_io(&e))?;
                    size.saturating_sub(pos)
                }
                Some(Node::File(_)) => 1,
                Some(Node::Dir(_)) => return Err(errno::BADF),
                None => 1,
            };
            What::Fd(tag, nbytes)
        }
        _ => return Err(errno::INVAL),
    };
    Ok(Sub { userdata, what })
}

/// The instant a clock subscription fires.
fn fires_at(p: &Process, id: u32, timeout: u64, absolute: bool) -> Result<Instant, Errno> {
    let now = Instant::now();
    let wait = match (id, absolute) {
        (REALTIME | MONOTONIC, false) => Duration::from_nanos(timeout),
        (REALTIME, true) => {
            let wall = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            Duration::from_nanos(timeout).saturating_sub(wall)
        }
        (MONOTONIC, true) => Duration::from_nanos(timeout).saturating_sub(p.started().elapsed()),
        _ => return Err(errno::INVAL),
    };
    // A wait too long to represent is as good as forever: the run's deadline (if any) ends it.
    Ok(now
        .checked_add(wait)
        .unwrap_or(now + Duration::from_secs(1 << 32)))
}

/// Sleeps until `at`; fails with [`Deadline`] if the run's deadline comes first, with
/// [`Interrupted`] if the run's interrupt is triggered first.
fn sleep_until(p: &Process, at: Instant) -> Result<(), wasmi::Error> {
    let now = Instant::now();
    let (until, then) = match p.deadline() {
        Some(deadline) if deadline <= at => (deadline, Err(wasmi::Error::host(Deadline))),
        _ => (at, Ok(())),
    };
    let wait = until.saturating_duration_since(now);
    match p.interrupt() {
        Some(interrupt) if interrupt.sleep(wait) => Err(wasmi::Error::host(Interrupted)),
        Some(_) => then,
        None => {
            std::thread::sleep(wait);
            then
        }
    }
}
