//! What the commission engine reads on every conversion and operators change
//! rarely: campaigns, their enabled plugins, their groups and rates, and each
//! affiliate's upline with its groups. Kept in memory, and dropped whenever the
//! `config_version` counter in the database moves (every change to that
//! configuration increments it, on whichever host makes it) or the plugin registry
//! changes. A host re-reads the counter at most every [`RECHECK`]: a change made
//! on another host takes effect here within that time, one made on this host at
//! once. Conversions and clicks thus skip the dozen queries the configuration
//! takes to load.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Statement};
use upline_types as sdk;

use super::affiliates;
use crate::db::entity::{affiliate, campaign, commission_group, plugin_binding, tier_rate};
use crate::domain::campaign::{Destinations, commission_type_key};
use crate::error::{Error, Result};
use crate::plugin::{Capability, Grants, Hook, Invocation, LoadedPlugin, NoStatistics, Registry};

/// Past this many entries a cached map starts over (a bound on memory).
const MAX_ENTRIES: usize = 100_000;

/// How long a host trusts its cache before it re-reads `config_version`.
pub const RECHECK: Duration = Duration::from_millis(100);

/// Changes made by this process, so its own caches drop at once.
static LOCAL_CHANGES: AtomicU64 = AtomicU64::new(0);

/// Increments the configuration counter inside the caller's transaction: call it
/// from every change to campaigns, groups, rates, memberships or plugin bindings.
pub async fn changed(db: &impl ConnectionTrait) -> Result<()> {
    LOCAL_CHANGES.fetch_add(1, Ordering::AcqRel);
    let bump = sea_orm::sea_query::Query::update()
        .table("config_version")
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("id").eq(1))
        .to_owned();
    db.execute(&bump).await?;
    Ok(())
}

async fn version(db: &impl ConnectionTrait) -> Result<i64> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, "SELECT version FROM config_version WHERE id = 1"))
        .await?
        .ok_or_else(|| Error::Database("config_version has no row".into()))?;
    Ok(row.try_get("", "version")?)
}

/// A campaign's enabled plugins, in call order, each with its checked configuration.
pub struct Plugins(Vec<(Arc<LoadedPlugin>, Invocation)>);

impl Plugins {
    async fn load(db: &impl ConnectionTrait, registry: &Registry, campaign_id: i64) -> Result<Result<Self, String>> {
        let bindings = plugin_binding::Entity::find()
            .filter(plugin_binding::Column::CampaignId.eq(campaign_id))
            .filter(plugin_binding::Column::Enabled.eq(true))
            .order_by_asc(plugin_binding::Column::Position)
            .order_by_asc(plugin_binding::Column::Id)
            .all(db)
            .await?;
        let mut plugins = Vec::new();
        for binding in bindings {
            let plugin = match binding.plugin_id.parse() {
                Ok(id) => registry.get(&id).map_err(|err| format!("enabled plugin: {err}")),
                Err(err) => Err(err),
            };
            let plugin = match plugin {
                Ok(plugin) => plugin,
                Err(err) => return Ok(Err(err)),
            };
            let config = match plugin.configure(&binding.config) {
                Ok(config) => config,
                Err(err) => return Ok(Err(err.to_string())),
            };
            let granted = super::bindings::grants_of(&binding);
            // A call that reads statistics replaces the source with its snapshot.
            let stats = granted.contains(&Capability::Stats).then(|| Arc::new(NoStatistics) as _);
            let grants = Grants { stats, exceed_total: granted.contains(&Capability::ExceedTotal) };
            plugins.push((plugin, Invocation { config, grants }));
        }
        Ok(Ok(Self(plugins)))
    }

    /// The ones implementing `hook`, in call order.
    pub fn with(&self, hook: Hook) -> impl Iterator<Item = &(Arc<LoadedPlugin>, Invocation)> {
        self.0.iter().filter(move |(plugin, _)| plugin.manifest.hooks.contains(&hook))
    }
}

/// The cached configuration, as of one `config_version`, count of local changes and
/// registry generation.
#[derive(Default)]
struct Cached {
    /// Counts restarts, so a load that began before one is not stored after it.
    epoch: u64,
    version: i64,
    local: u64,
    registry: u64,
    /// When `version` was last read from the database.
    checked_at: Option<Instant>,
    /// When reading it last failed: the requests that waited for that recheck fail
    /// too, instead of each trying again in turn (each up to the pool's timeout).
    failed_at: Option<Instant>,
    affiliates: HashMap<i64, Slot<affiliate::Model>>,
    campaigns: HashMap<i64, Slot<campaign::Model>>,
    destinations: HashMap<i64, Slot<Destinations>>,
    plugins: HashMap<i64, Slot<Result<Plugins, String>>>,
    groups: HashMap<(i64, String), Slot<Vec<sdk::CommissionGroup>>>,
    uplines: HashMap<(i64, i64), Slot<Vec<sdk::UplineMember>>>,
}

/// A cached entry, or the load of it in progress: requests that miss the same key at
/// once wait for one load instead of each running its queries (5,000 connections'
/// first sales once queued 5,000 upline loads on the database).
type Slot<V> = Arc<tokio::sync::OnceCell<Arc<V>>>;

/// The cache; one per host.
#[derive(Default)]
pub struct ConfigCache {
    cached: Mutex<Cached>,
    /// Held while the counter is read and the plugin registry brought in line with
    /// the database: requests that find the view stale at once wait for one recheck
    /// instead of each reading the counter (64 connections' sales read it about 250
    /// times a second, on SQLite queued with the writer's batches for its one
    /// connection) or compiling the same packages.
    rechecking: tokio::sync::Mutex<()>,
}

impl ConfigCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Cached> {
        // Every update is a single insert or assignment: a panic cannot leave it torn.
        self.cached.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads the configuration counter and returns a view that is current as of
    /// now: the cache starts over if the counter or the registry moved.
    pub async fn current<'a>(&'a self, db: &'a DatabaseConnection, registry: &'a Arc<Registry>) -> Result<Config<'a>> {
        let (local, generation) = (LOCAL_CHANGES.load(Ordering::Acquire), registry.generation());
        let fresh = |cached: &Cached| {
            cached.local == local
                && cached.registry == generation
                && cached.checked_at.is_some_and(|at| at.elapsed() < RECHECK)
        };
        let checked = || {
            let cached = self.lock();
            fresh(&cached).then(|| Config { cache: self, epoch: cached.epoch, db, registry })
        };
        if let Some(config) = checked() {
            return Ok(config);
        }
        let waited_from = Instant::now();
        let _one_at_a_time = self.rechecking.lock().await;
        if let Some(config) = checked() {
            // Rechecked while this request waited.
            return Ok(config);
        }
        if self.lock().failed_at.is_some_and(|at| at >= waited_from) {
            return Err(Error::Unavailable {
                message: "the configuration could not be read from the database: try again".into(),
                retry_after: Duration::from_secs(1),
            });
        }
        let mut version = match version(db).await {
            Ok(version) => version,
            Err(err) => {
                self.lock().failed_at = Some(Instant::now());
                return Err(err);
            }
        };
        if self.lock().version != version {
            // Another host may have installed, activated or limited a plugin. If that
            // fails here, conversions still run with the plugins this host has, and
            // the next check tries again (the counter is not taken as seen).
            if let Err(err) = super::packages::sync(db, registry).await {
                tracing::error!(error = %err, "syncing plugin packages from the database");
                version = self.lock().version;
            }
        }
        let generation = registry.generation();
        let mut cached = self.lock();
        if cached.version != version || cached.local != local || cached.registry != generation {
            let epoch = cached.epoch + 1;
            *cached = Cached { epoch, version, local, registry: generation, ..Default::default() };
        }
        cached.checked_at = Some(Instant::now());
        Ok(Config { cache: self, epoch: cached.epoch, db, registry })
    }
}

/// The configuration as one conversion sees it: cached entries, loaded on a miss.
pub struct Config<'a> {
    cache: &'a ConfigCache,
    epoch: u64,
    db: &'a DatabaseConnection,
    registry: &'a Registry,
}

impl Config<'_> {
    /// The entry of `key`, loaded by `load` unless it is cached or being loaded. A
    /// failed load is not kept: the next request loads it again.
    async fn get<K: Hash + Eq, V>(
        &self,
        map: fn(&mut Cached) -> &mut HashMap<K, Slot<V>>,
        key: K,
        load: impl Future<Output = Result<V>>,
    ) -> Result<Arc<V>> {
        let slot = {
            let mut cached = self.cache.lock();
            let current = cached.epoch == self.epoch;
            let map = map(&mut cached);
            match map.get(&key) {
                Some(slot) => slot.clone(),
                // A view older than the cache loads for itself and keeps nothing.
                None if !current => Slot::default(),
                None => {
                    // Keys come from requests (an action code, an affiliate id): bound the map.
                    if map.len() >= MAX_ENTRIES {
                        map.clear();
                    }
                    map.entry(key).or_default().clone()
                }
            }
        };
        slot.get_or_try_init(|| async { load.await.map(Arc::new) }).await.cloned()
    }

    /// The affiliate; an unknown one is a bad `affiliate` field.
    pub async fn affiliate(&self, id: i64) -> Result<Arc<affiliate::Model>> {
        let load = async {
            affiliate::Entity::find_by_id(id).one(self.db).await?.ok_or_else(|| Error::InvalidInput {
                field: "affiliate".into(),
                message: format!("affiliate {id} does not exist"),
            })
        };
        self.get(|c| &mut c.affiliates, id, load).await
    }

    /// The campaign; an unknown one is a bad `campaign` field.
    pub async fn campaign(&self, id: i64) -> Result<Arc<campaign::Model>> {
        let load = async {
            campaign::Entity::find_by_id(id).one(self.db).await?.ok_or_else(|| Error::InvalidInput {
                field: "campaign".into(),
                message: format!("campaign {id} does not exist"),
            })
        };
        self.get(|c| &mut c.campaigns, id, load).await
    }

    /// Where the campaign's referral links may lead, parsed once.
    pub async fn destinations(&self, campaign_id: i64) -> Result<Arc<Destinations>> {
        let campaign = self.campaign(campaign_id).await?;
        self.get(|c| &mut c.destinations, campaign_id, async { Ok(super::campaigns::destinations(&campaign)) }).await
    }

    /// The campaign's enabled plugins, or why they cannot run (a binding names a
    /// plugin that is not installed, or its configuration no longer fits).
    pub async fn plugins(&self, campaign_id: i64) -> Result<Arc<Result<Plugins, String>>> {
        let load = Plugins::load(self.db, self.registry, campaign_id);
        self.get(|c| &mut c.plugins, campaign_id, load).await
    }

    /// Every group of the campaign with its tiers for `commission_type`.
    pub async fn groups(
        &self,
        campaign_id: i64,
        commission_type: &sdk::CommissionType,
    ) -> Result<Arc<Vec<sdk::CommissionGroup>>> {
        let key = commission_type_key(commission_type);
        let load = load_groups(self.db, campaign_id, key.clone());
        self.get(|c| &mut c.groups, (campaign_id, key), load).await
    }

    /// The referring affiliate (tier 1) and its parents, each with its group in the
    /// campaign; an unknown affiliate is a bad `affiliate` field.
    pub async fn upline(&self, campaign_id: i64, affiliate_id: i64) -> Result<Arc<Vec<sdk::UplineMember>>> {
        let load = async {
            let upline = affiliates::upline(self.db, affiliate_id).await.map_err(|_| Error::InvalidInput {
                field: "affiliate".into(),
                message: format!("affiliate {affiliate_id} does not exist"),
            })?;
            let mut members = Vec::with_capacity(upline.len());
            for (i, affiliate) in upline.iter().enumerate() {
                members.push(sdk::UplineMember {
                    affiliate: (affiliate.id as u64).into(),
                    tier: i as u32 + 1,
                    group: (affiliates::group_of(self.db, campaign_id, affiliate.id).await? as u64).into(),
                    customer: affiliate.customer.clone(),
                });
            }
            Ok(members)
        };
        self.get(|c| &mut c.uplines, (campaign_id, affiliate_id), load).await
    }
}

async fn load_groups(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    commission_type: String,
) -> Result<Vec<sdk::CommissionGroup>> {
    let groups = commission_group::Entity::find()
        .filter(commission_group::Column::CampaignId.eq(campaign_id))
        .order_by_asc(commission_group::Column::Id)
        .all(db)
        .await?;
    let rates = tier_rate::Entity::find()
        .filter(tier_rate::Column::GroupId.is_in(groups.iter().map(|g| g.id)))
        .filter(tier_rate::Column::CommissionType.eq(commission_type))
        .all(db)
        .await?;
    let mut tiers: HashMap<i64, Vec<sdk::TierSetting>> = HashMap::new();
    for rate in &rates {
        tiers.entry(rate.group_id).or_default().push(super::campaigns::tier_setting(rate)?);
    }
    Ok(groups
        .into_iter()
        .map(|g| sdk::CommissionGroup {
            id: (g.id as u64).into(),
            name: g.name,
            tiers: tiers.remove(&g.id).unwrap_or_default(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use sea_orm::DatabaseConnection;

    use super::ConfigCache;
    use crate::plugin::Registry;

    /// Counts the reads of the configuration counter on `db`.
    fn counted(db: &mut DatabaseConnection) -> Arc<AtomicUsize> {
        let reads = Arc::new(AtomicUsize::new(0));
        let counter = reads.clone();
        db.set_metric_callback(move |info| {
            if info.statement.sql.contains("FROM config_version") {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
        reads
    }

    /// Eight requests asking for the configuration at once: which got it.
    async fn at_once(db: &DatabaseConnection, registry: &Arc<Registry>, cache: &Arc<ConfigCache>) -> Vec<bool> {
        let mut requests = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (db, registry, cache) = (db.clone(), registry.clone(), cache.clone());
            requests.spawn(async move { cache.current(&db, &registry).await.is_ok() });
        }
        requests.join_all().await
    }

    #[tokio::test]
    async fn requests_finding_the_view_stale_at_once_read_the_counter_once() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut db = crate::db::connect(&crate::db::default_url(dir.path())).await.expect("a migrated database");
        let reads = counted(&mut db);
        let registry = Arc::new(Registry::open(dir.path()).expect("a plugin registry"));
        let cache = Arc::new(ConfigCache::default());
        assert_eq!(at_once(&db, &registry, &cache).await, [true; 8]);
        assert_eq!(reads.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn a_failed_read_of_the_counter_fails_the_requests_that_waited_for_it_and_the_next_reads_again() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        // No migrations: there is no counter to read.
        let mut db = sea_orm::Database::connect(crate::db::default_url(dir.path())).await.expect("an empty database");
        let reads = counted(&mut db);
        let registry = Arc::new(Registry::open(dir.path()).expect("a plugin registry"));
        let cache = Arc::new(ConfigCache::default());
        assert_eq!(at_once(&db, &registry, &cache).await, [false; 8]);
        assert_eq!(reads.load(Ordering::Relaxed), 1, "the waiting requests did not read it again, each in turn");
        assert!(cache.current(&db, &registry).await.is_err());
        assert_eq!(reads.load(Ordering::Relaxed), 2, "a later request reads it again");
    }
}
