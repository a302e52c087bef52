//! The subscription index: a trie of topic levels that answers "who gets this message?".
//!
//! Each node holds the subscribers whose filter ends there, split into plain subscriptions and
//! shared-subscription groups (`$share/{group}/{filter}`, 5.0 §4.8.2). Matching walks the topic's
//! levels once, following the exact child, the `+` child and collecting `#` at every step, and
//! applies the `$` rule: a filter starting with a wildcard never matches a topic starting with `$`
//! [MQTT-4.7.2-1]. `route` takes `&self` (shared groups rotate with an atomic counter), so the
//! broker can match under a read lock while subscriptions change rarely.
//!
//! A client with several matching subscriptions gets one delivery with the highest QoS and every
//! matching Subscription Identifier (5.0 §3.3.4 allows this instead of one copy per subscription,
//! and it is what a subscriber with overlapping filters expects). See [`merge`].

use std::collections::HashMap;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::protocol::{QoS, SubscriptionOptions};
use crate::topic::{TopicFilter, TopicName};

/// One subscription as stored in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription<K> {
    /// Who subscribed.
    pub client: K,
    /// The subscription's options.
    pub options: SubscriptionOptions,
    /// Its 5.0 Subscription Identifier.
    pub id: Option<NonZeroU32>,
}

#[derive(Debug)]
struct Group<K> {
    members: Vec<Subscription<K>>,
    next: AtomicUsize,
}

#[derive(Debug)]
struct Node<K> {
    children: HashMap<Box<str>, Node<K>>,
    subscribers: Vec<Subscription<K>>,
    groups: HashMap<Box<str>, Group<K>>,
}

impl<K> Default for Node<K> {
    fn default() -> Self {
        Node {
            children: HashMap::new(),
            subscribers: Vec::new(),
            groups: HashMap::new(),
        }
    }
}

impl<K> Node<K> {
    fn is_empty(&self) -> bool {
        self.children.is_empty() && self.subscribers.is_empty() && self.groups.is_empty()
    }
}

/// The subscription index, keyed by client `K`.
#[derive(Debug)]
pub struct Router<K> {
    root: Node<K>,
    len: usize,
}

impl<K> Default for Router<K> {
    fn default() -> Self {
        Router {
            root: Node::default(),
            len: 0,
        }
    }
}

impl<K: Clone + Eq + Hash> Router<K> {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many subscriptions are stored (shared members count one each).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no subscription is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `sub` for `filter`, replacing that client's existing subscription to the same filter
    /// [MQTT-3.8.4-3]. Returns `true` when the subscription is new.
    pub fn subscribe(&mut self, filter: &TopicFilter, sub: Subscription<K>) -> bool {
        let shared = filter.shared();
        let path = shared.map_or(filter.as_str(), |s| s.filter);
        let mut node = &mut self.root;
        for level in path.split('/') {
            node = node.children.entry(level.into()).or_default();
        }
        let list = match shared {
            Some(s) => {
                let group = node.groups.entry(s.group.into()).or_insert_with(|| Group {
                    members: Vec::new(),
                    next: AtomicUsize::new(0),
                });
                &mut group.members
            }
            None => &mut node.subscribers,
        };
        match list.iter_mut().find(|s| s.client == sub.client) {
            Some(existing) => {
                *existing = sub;
                false
            }
            None => {
                list.push(sub);
                self.len += 1;
                true
            }
        }
    }

    /// Removes `client`'s subscription to `filter`. Returns whether it existed.
    pub fn unsubscribe(&mut self, filter: &TopicFilter, client: &K) -> bool {
        let shared = filter.shared();
        let path = shared.map_or(filter.as_str(), |s| s.filter);
        let levels: Vec<&str> = path.split('/').collect();
        let group = shared.map(|s| s.group);
        let removed = remove(&mut self.root, &levels, group, client);
        if removed {
            self.len -= 1;
        }
        removed
    }

    /// Appends every subscription matching `topic` to `out` (one entry per matching
    /// subscription; one member per matching shared group, chosen round-robin).
    pub fn route(&self, topic: &TopicName, out: &mut Vec<Subscription<K>>) {
        self.route_available(topic, out, &|_| true);
    }

    /// Like [`Router::route`], but a shared group skips members for which `available` is false
    /// (offline sessions) while it has one for which it is true.
    pub fn route_available(
        &self,
        topic: &TopicName,
        out: &mut Vec<Subscription<K>>,
        available: &dyn Fn(&K) -> bool,
    ) {
        let system = topic.is_system();
        let mut levels = topic.as_str().split('/');
        let first = levels.next().unwrap_or("");
        let mut found = Found {
            out,
            available,
            sources: 0,
        };
        walk(&self.root, first, levels, !system, &mut found);
    }

    /// [`Router::route_available`] folded into one delivery per client ([`merge`]).
    pub fn deliveries(
        &self,
        topic: &TopicName,
        available: &dyn Fn(&K) -> bool,
    ) -> Vec<Delivery<K>> {
        let system = topic.is_system();
        let mut levels = topic.as_str().split('/');
        let first = levels.next().unwrap_or("");
        let mut out = Vec::new();
        let mut found = Found {
            out: &mut out,
            available,
            sources: 0,
        };
        walk(&self.root, first, levels, !system, &mut found);
        // A client is at most once in a node's subscriber list, and once per group: with one
        // list (the common case of one matching filter) there is nothing to merge.
        match found.sources {
            0 | 1 => out.into_iter().map(Delivery::from).collect(),
            _ => merge(out),
        }
    }
}

/// Where matches go, and which shared-group members can take them.
struct Found<'a, K> {
    out: &'a mut Vec<Subscription<K>>,
    available: &'a dyn Fn(&K) -> bool,
    /// How many subscriber lists and groups contributed matches.
    sources: usize,
}

/// Matches the level `level` (with `rest` to follow) below `node`. `wildcards` is false only for
/// the first level of a `$` topic [MQTT-4.7.2-1].
fn walk<'t, K: Clone>(
    node: &Node<K>,
    level: &'t str,
    rest: std::str::Split<'t, char>,
    wildcards: bool,
    out: &mut Found<'_, K>,
) {
    if wildcards {
        // '#' matches this level and everything below it, including the parent ("a/#" ~ "a").
        if let Some(hash) = node.children.get("#") {
            collect(hash, out);
        }
    }
    let mut next = |child: &Node<K>| {
        let mut rest = rest.clone();
        match rest.next() {
            Some(level) => walk(child, level, rest, true, out),
            None => {
                collect(child, out);
                // "a/#" also matches "a": '#' below the last matched level.
                if let Some(hash) = child.children.get("#") {
                    collect(hash, out);
                }
            }
        }
    };
    if let Some(child) = node.children.get(level) {
        next(child);
    }
    if wildcards {
        if let Some(child) = node.children.get("+") {
            next(child);
        }
    }
}

fn collect<K: Clone>(node: &Node<K>, found: &mut Found<'_, K>) {
    if !node.subscribers.is_empty() {
        found.sources += 1;
        found.out.extend(node.subscribers.iter().cloned());
    }
    for group in node.groups.values() {
        let n = group.members.len();
        if n == 0 {
            continue;
        }
        // Round-robin, skipping members that cannot take the message now.
        let start = group.next.fetch_add(1, Ordering::Relaxed);
        let pick = (0..n)
            .map(|k| &group.members[(start + k) % n])
            .find(|m| (found.available)(&m.client))
            .unwrap_or(&group.members[start % n]);
        found.sources += 1;
        found.out.push(pick.clone());
    }
}

fn remove<K: Eq>(node: &mut Node<K>, levels: &[&str], group: Option<&str>, client: &K) -> bool {
    let Some((first, rest)) = levels.split_first() else {
        return remove_here(node, group, client);
    };
    let Some(child) = node.children.get_mut(*first) else {
        return false;
    };
    let removed = remove(child, rest, group, client);
    if child.is_empty() {
        node.children.remove(*first);
    }
    removed
}

fn remove_here<K: Eq>(node: &mut Node<K>, group: Option<&str>, client: &K) -> bool {
    let list = match group {
        Some(g) => match node.groups.get_mut(g) {
            Some(group) => &mut group.members,
            None => return false,
        },
        None => &mut node.subscribers,
    };
    let before = list.len();
    list.retain(|s| &s.client != client);
    let removed = list.len() != before;
    if let Some(g) = group {
        if node.groups.get(g).is_some_and(|grp| grp.members.is_empty()) {
            node.groups.remove(g);
        }
    }
    removed
}

/// One delivery to one client, merged from its matching subscriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery<K> {
    /// The receiving client.
    pub client: K,
    /// The highest QoS granted by the matching subscriptions.
    pub qos: QoS,
    /// Whether any matching subscription keeps the RETAIN flag (Retain As Published).
    pub retain_as_published: bool,
    /// Whether every matching subscription has No Local set.
    pub no_local: bool,
    /// Every matching Subscription Identifier [MQTT-3.3.4-3].
    pub subscription_ids: Vec<NonZeroU32>,
}

impl<K> From<Subscription<K>> for Delivery<K> {
    fn from(sub: Subscription<K>) -> Self {
        Delivery {
            client: sub.client,
            qos: sub.options.qos,
            retain_as_published: sub.options.retain_as_published,
            no_local: sub.options.no_local,
            subscription_ids: sub.id.into_iter().collect(),
        }
    }
}

/// Folds the matches of [`Router::route`] into one delivery per client.
pub fn merge<K: Clone + Eq + Hash>(matches: Vec<Subscription<K>>) -> Vec<Delivery<K>> {
    let mut out: Vec<Delivery<K>> = Vec::with_capacity(matches.len());
    let few = matches.len() <= 8;
    let mut index: HashMap<K, usize> = HashMap::with_capacity(if few { 0 } else { matches.len() });
    for sub in matches {
        let found = if few {
            out.iter().position(|d| d.client == sub.client)
        } else {
            index.get(&sub.client).copied()
        };
        match found {
            Some(i) => {
                let d = &mut out[i];
                d.qos = d.qos.max(sub.options.qos);
                d.retain_as_published |= sub.options.retain_as_published;
                d.no_local &= sub.options.no_local;
                d.subscription_ids.extend(sub.id);
            }
            None => {
                if !few {
                    index.insert(sub.client.clone(), out.len());
                }
                out.push(Delivery::from(sub));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::SubscriptionOptions;

    fn opts(qos: QoS) -> SubscriptionOptions {
        SubscriptionOptions {
            qos,
            ..SubscriptionOptions::default()
        }
    }

    fn sub(router: &mut Router<&'static str>, client: &'static str, filter: &str) -> bool {
        let filter = TopicFilter::new(filter).unwrap();
        let sub = Subscription {
            client,
            options: opts(QoS::AtMostOnce),
            id: None,
        };
        router.subscribe(&filter, sub)
    }

    fn clients(router: &Router<&'static str>, topic: &str) -> Vec<&'static str> {
        let mut out = Vec::new();
        router.route(&TopicName::new(topic).unwrap(), &mut out);
        let mut clients: Vec<_> = out.into_iter().map(|s| s.client).collect();
        clients.sort_unstable();
        clients
    }

    #[test]
    fn matches_like_the_spec_examples_section_4_7() {
        let mut r = Router::new();
        for (client, filter) in [
            ("hash", "sport/tennis/player1/#"),
            ("plus", "sport/+/player1"),
            ("all", "#"),
            ("top", "+"),
            ("slash", "/+"),
            ("pp", "+/+"),
            ("sys", "$SYS/#"),
            ("sysplus", "$SYS/monitor/+"),
        ] {
            assert!(sub(&mut r, client, filter));
        }
        assert_eq!(clients(&r, "sport/tennis/player1"), ["all", "hash", "plus"]);
        assert_eq!(clients(&r, "sport/tennis/player1/ranking"), ["all", "hash"]);
        assert_eq!(clients(&r, "sport"), ["all", "top"]);
        assert_eq!(clients(&r, "/finance"), ["all", "pp", "slash"]);
        assert_eq!(clients(&r, "sport/"), ["all", "pp"]);
        // [MQTT-4.7.2-1]: wildcards at the first level do not match '$' topics.
        assert_eq!(clients(&r, "$SYS/monitor/Clients"), ["sys", "sysplus"]);
        assert_eq!(clients(&r, "$SYS"), ["sys"]);
    }

    #[test]
    fn resubscribing_replaces_the_subscription_mqtt_3_8_4_3() {
        let mut r = Router::new();
        assert!(sub(&mut r, "a", "x/y"));
        assert!(!sub(&mut r, "a", "x/y"));
        assert_eq!(r.len(), 1);
        assert_eq!(clients(&r, "x/y"), ["a"]);
    }

    #[test]
    fn unsubscribe_removes_only_that_client_and_prunes() {
        let mut r = Router::new();
        sub(&mut r, "a", "x/+/z");
        sub(&mut r, "b", "x/+/z");
        let f = TopicFilter::new("x/+/z").unwrap();
        assert!(r.unsubscribe(&f, &"a"));
        assert!(!r.unsubscribe(&f, &"a"));
        assert_eq!(clients(&r, "x/y/z"), ["b"]);
        assert!(r.unsubscribe(&f, &"b"));
        assert!(r.is_empty());
        assert!(r.root.is_empty(), "empty nodes are pruned");
    }

    #[test]
    fn shared_group_delivers_to_one_member_in_turn_mqtt_4_8_2() {
        let mut r = Router::new();
        sub(&mut r, "a", "$share/g/t/#");
        sub(&mut r, "b", "$share/g/t/#");
        sub(&mut r, "c", "$share/h/t/+");
        sub(&mut r, "d", "t/x");
        let mut seen = Vec::new();
        for _ in 0..4 {
            let got = clients(&r, "t/x");
            assert_eq!(got.len(), 3, "one per group plus the plain one: {got:?}");
            assert!(got.contains(&"c") && got.contains(&"d"));
            seen.extend(got.into_iter().filter(|c| *c == "a" || *c == "b"));
        }
        seen.sort_unstable();
        assert_eq!(seen, ["a", "a", "b", "b"], "round-robin between members");
        let f = TopicFilter::new("$share/g/t/#").unwrap();
        assert!(r.unsubscribe(&f, &"a"));
        assert_eq!(clients(&r, "t/x"), ["b", "c", "d"]);
    }

    #[test]
    fn shared_group_skips_unavailable_members_section_4_8_2() {
        let mut r = Router::new();
        sub(&mut r, "offline", "$share/g/t");
        sub(&mut r, "online", "$share/g/t");
        let topic = TopicName::new("t").unwrap();
        for _ in 0..4 {
            let mut out = Vec::new();
            r.route_available(&topic, &mut out, &|c: &&str| *c == "online");
            let got: Vec<_> = out.iter().map(|s| s.client).collect();
            assert_eq!(got, ["online"]);
        }
        // With nobody available the rotation goes on (persistent members queue QoS 1/2).
        let mut out = Vec::new();
        r.route_available(&topic, &mut out, &|_| false);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn overlapping_subscriptions_merge_to_one_delivery_mqtt_3_3_4_2() {
        let mut r: Router<&str> = Router::new();
        let id = |n| NonZeroU32::new(n);
        for (filter, qos, sub_id) in [("a/#", QoS::AtMostOnce, 1), ("a/+", QoS::ExactlyOnce, 2)] {
            let filter = TopicFilter::new(filter).unwrap();
            let s = Subscription {
                client: "c",
                options: opts(qos),
                id: id(sub_id),
            };
            r.subscribe(&filter, s);
        }
        let mut out = Vec::new();
        r.route(&TopicName::new("a/b").unwrap(), &mut out);
        let merged = merge(out);
        assert_eq!(
            r.deliveries(&TopicName::new("a/b").unwrap(), &|_| true),
            merged,
            "deliveries() merges as merge() does"
        );
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].qos, QoS::ExactlyOnce);
        let mut ids = merged[0].subscription_ids.clone();
        ids.sort_unstable();
        assert_eq!(ids, [id(1).unwrap(), id(2).unwrap()]);
    }

    #[test]
    fn one_matching_filter_gives_one_delivery_per_subscriber_and_a_shared_member_merges() {
        let mut r: Router<&str> = Router::new();
        for client in ["a", "b", "c"] {
            sub(&mut r, client, "t/x");
        }
        // "a" also in a shared group on the same filter: two sources, merged.
        sub(&mut r, "a", "$share/g/t/x");
        let topic = TopicName::new("t/x").unwrap();
        let mut clients: Vec<_> = r
            .deliveries(&topic, &|_| true)
            .iter()
            .map(|d| d.client)
            .collect();
        clients.sort_unstable();
        assert_eq!(clients, ["a", "b", "c"]);
        let other = TopicName::new("t/y").unwrap();
        sub(&mut r, "d", "t/y");
        let only: Vec<_> = r
            .deliveries(&other, &|_| true)
            .iter()
            .map(|d| d.client)
            .collect();
        assert_eq!(only, ["d"]);
    }

    #[test]
    fn merge_handles_many_clients() {
        let subs: Vec<Subscription<u32>> = (0..100)
            .chain(0..100)
            .map(|c| Subscription {
                client: c,
                options: opts(QoS::AtLeastOnce),
                id: None,
            })
            .collect();
        let merged = merge(subs);
        assert_eq!(merged.len(), 100);
    }
}
