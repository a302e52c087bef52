//! The session registry: which session a client id has, session takeover [MQTT-3.1.4-3], and
//! what happens to a session and its will when its connection ends (5.0 §3.1.2.5, §3.1.3.2.2).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::session::Session;
use super::{lock, Inner};
use crate::protocol::{LastWill, ProtocolVersion, ReasonCode};

/// A session handed to a new connection.
pub(crate) struct Opened {
    /// The session.
    pub session: Arc<Session>,
    /// Whether it existed before (CONNACK Session Present).
    pub present: bool,
    /// This connection's number: ownership of the session is checked against it.
    pub conn_no: u64,
    /// Fires when another connection takes the session over.
    pub takeover: oneshot::Receiver<ReasonCode>,
}

impl Inner {
    /// Attaches a connection to the session of `client_id`, taking it over from a connection
    /// that still holds it, and starting afresh when `clean_start` is set.
    pub(crate) fn open_session(
        &self,
        client_id: Arc<str>,
        clean_start: bool,
        version: ProtocolVersion,
        expiry_interval: u32,
    ) -> Opened {
        let conn_no = self.next_id();
        let (tx, takeover) = oneshot::channel();
        let mut ended: Option<(Arc<Session>, Option<LastWill>)> = None;
        let mut sessions = lock(&self.sessions);
        let existing = sessions.get(&client_id).cloned();
        let reused = existing.and_then(|old| {
            let mut st = old.lock();
            if let Some(kick) = st.takeover.take() {
                tracing::info!("Client {client_id} already connected, closing old connection.");
                let _ = kick.send(ReasonCode::SessionTakenOver);
            }
            if clean_start {
                // The old session ends here, and a will it still held goes out now.
                st.owner = None;
                old.online.store(false, Ordering::Relaxed);
                let will = st.pending_will.take().map(|(w, _)| w);
                drop(st);
                ended = Some((Arc::clone(&old), will));
                None
            } else {
                drop(st);
                Some(old)
            }
        });
        let present = reused.is_some();
        let session = reused.unwrap_or_else(|| {
            let id = self.next_id();
            let max = self.config().max_queued_messages;
            let s = Arc::new(Session::new(id, Arc::clone(&client_id), version, max));
            sessions.insert(client_id, Arc::clone(&s));
            s
        });
        {
            let mut st = session.lock();
            st.owner = Some(conn_no);
            session.online.store(true, Ordering::Relaxed);
            st.takeover = Some(tx);
            st.offline_since = None;
            // Reconnecting within the Will Delay Interval cancels the will [MQTT-3.1.3-9].
            st.pending_will = None;
            st.expiry_interval = expiry_interval;
            st.version = version;
            let config = self.config();
            st.queue_qos0 = config.queue_qos0_messages;
            st.max_queued = config.max_queued_messages;
            st.max_queued_bytes = config.max_queued_bytes;
        }
        drop(sessions);
        if let Some((old, _)) = &ended {
            self.forget_session(old);
        }
        self.persist_session(&session);
        if let Some((old, will)) = ended {
            self.drop_subscriptions(&old);
            if let Some(will) = will {
                self.publish_will(will, old.id);
            }
        }
        Opened {
            session,
            present,
            conn_no,
            takeover,
        }
    }

    /// Detaches connection `conn_no` from `session`. `will` is the will to publish (none after a
    /// normal DISCONNECT), after `will_delay` seconds unless the session resumes first.
    pub(crate) fn close_session(
        &self,
        session: &Arc<Session>,
        conn_no: u64,
        will: Option<LastWill>,
        will_delay: u32,
    ) {
        let now = Instant::now();
        let mut st = session.lock();
        if st.owner != Some(conn_no) {
            // Taken over: the session goes on under the new connection, unless that one
            // started clean and ended it.
            drop(st);
            if let Some(will) = will {
                let continues = self.is_current(session);
                if will_delay == 0 || !continues {
                    self.publish_will(will, session.id);
                }
            }
            return;
        }
        st.owner = None;
        session.online.store(false, Ordering::Relaxed);
        // Publishers waiting for its queue to drain wait no more.
        session.room.notify_waiters();
        st.takeover = None;
        st.offline_since = Some(now);
        if st.expiry_interval == 0 {
            drop(st);
            self.end_session(session);
            if let Some(will) = will {
                self.publish_will(will, session.id);
            }
        } else {
            st.detach_messages();
            if let Some(will) = will {
                if will_delay == 0 {
                    drop(st);
                    self.publish_will(will, session.id);
                } else {
                    // Published at the earlier of the will delay and the session's end.
                    let delay = will_delay.min(st.expiry_interval);
                    st.pending_will = Some((will, now + Duration::from_secs(u64::from(delay))));
                    drop(st);
                }
            } else {
                drop(st);
            }
            self.persist_session(session);
        }
    }

    fn is_current(&self, session: &Arc<Session>) -> bool {
        lock(&self.sessions)
            .get(&session.client_id)
            .is_some_and(|s| Arc::ptr_eq(s, session))
    }

    /// Removes `session` from the registry (if it is still the client's) and the router.
    fn end_session(&self, session: &Arc<Session>) {
        {
            let mut sessions = lock(&self.sessions);
            if sessions
                .get(&session.client_id)
                .is_some_and(|s| Arc::ptr_eq(s, session))
            {
                sessions.remove(&session.client_id);
            }
        }
        self.drop_subscriptions(session);
        self.forget_session(session);
    }
}
