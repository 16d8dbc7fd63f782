//! systemd notification (`sd_notify`) without libsystemd: datagrams to `$NOTIFY_SOCKET`.
//! `READY=1` once the source streams and HTTP is bound, `WATCHDOG=1` only while samples
//! flow, `STATUS=...` on changes, `STOPPING=1` at shutdown.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::Duration;

/// Where notifications go (nowhere when not under systemd).
#[derive(Debug)]
pub struct Notifier {
    target: Option<(UnixDatagram, Target)>,
}

#[derive(Debug, Clone)]
enum Target {
    Path(PathBuf),
    #[cfg(target_os = "linux")]
    Abstract(Vec<u8>),
}

impl Notifier {
    /// From `$NOTIFY_SOCKET` (a path, or `@name` for an abstract socket).
    pub fn from_env() -> Notifier {
        Notifier::new(std::env::var_os("NOTIFY_SOCKET").map(PathBuf::from))
    }

    /// To `socket`, or a no-op for `None`.
    pub fn new(socket: Option<PathBuf>) -> Notifier {
        let target = socket.and_then(|p| {
            let bytes = p.as_os_str().as_encoded_bytes().to_vec();
            let t = match bytes.first() {
                #[cfg(target_os = "linux")]
                Some(b'@') => Target::Abstract(bytes[1..].to_vec()),
                Some(_) => Target::Path(p),
                None => return None,
            };
            match UnixDatagram::unbound() {
                Ok(s) => Some((s, t)),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot create the systemd notify socket");
                    None
                }
            }
        });
        Notifier { target }
    }

    /// Whether notifications go anywhere.
    pub fn enabled(&self) -> bool {
        self.target.is_some()
    }

    /// Sends one notification (`READY=1`, `WATCHDOG=1`, `STATUS=...`).
    pub fn notify(&self, msg: &str) {
        let Some((sock, target)) = &self.target else {
            return;
        };
        let r = match target {
            Target::Path(p) => sock.send_to(msg.as_bytes(), p),
            #[cfg(target_os = "linux")]
            Target::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                std::os::unix::net::SocketAddr::from_abstract_name(name)
                    .and_then(|a| sock.send_to_addr(msg.as_bytes(), &a))
            }
        };
        if let Err(e) = r {
            tracing::debug!(error = %e, msg, "systemd notify failed");
        }
    }
}

/// The watchdog interval systemd asked for (`$WATCHDOG_USEC`, when `$WATCHDOG_PID` is
/// absent or ours).
pub fn watchdog_from_env() -> Option<Duration> {
    if let Some(pid) = std::env::var_os("WATCHDOG_PID")
        && pid.to_str().and_then(|p| p.parse::<u32>().ok()) != Some(std::process::id())
    {
        return None;
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec))
}
