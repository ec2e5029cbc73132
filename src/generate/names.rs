//! The police forces and systems of the UK estate (DOMAIN.md, "The landscape").

/// The 43 territorial forces of England and Wales, Police Scotland, the Police
/// Service of Northern Ireland and the three special forces, each with a rough
/// relative size (1.0 = a mid-sized county force).
pub const FORCES: &[(&str, f64)] = &[
    ("Avon and Somerset Constabulary", 1.5),
    ("Bedfordshire Police", 0.7),
    ("Cambridgeshire Constabulary", 0.8),
    ("Cheshire Constabulary", 1.0),
    ("City of London Police", 0.4),
    ("Cleveland Police", 0.7),
    ("Cumbria Constabulary", 0.6),
    ("Derbyshire Constabulary", 0.9),
    ("Devon and Cornwall Police", 1.5),
    ("Dorset Police", 0.6),
    ("Durham Constabulary", 0.6),
    ("Essex Police", 1.6),
    ("Gloucestershire Constabulary", 0.6),
    ("Greater Manchester Police", 3.5),
    ("Hampshire and Isle of Wight Constabulary", 1.6),
    ("Hertfordshire Constabulary", 1.1),
    ("Humberside Police", 1.0),
    ("Kent Police", 1.8),
    ("Lancashire Constabulary", 1.5),
    ("Leicestershire Police", 1.0),
    ("Lincolnshire Police", 0.6),
    ("Merseyside Police", 1.8),
    ("Metropolitan Police Service", 8.0),
    ("Norfolk Constabulary", 0.8),
    ("Northamptonshire Police", 0.7),
    ("North Yorkshire Police", 0.7),
    ("Nottinghamshire Police", 1.1),
    ("Northumbria Police", 1.6),
    ("South Yorkshire Police", 1.4),
    ("Staffordshire Police", 0.9),
    ("Suffolk Constabulary", 0.6),
    ("Surrey Police", 1.0),
    ("Sussex Police", 1.4),
    ("Thames Valley Police", 2.1),
    ("Warwickshire Police", 0.5),
    ("West Mercia Police", 1.2),
    ("West Midlands Police", 3.3),
    ("West Yorkshire Police", 2.8),
    ("Wiltshire Police", 0.5),
    ("Dyfed-Powys Police", 0.6),
    ("Gwent Police", 0.6),
    ("North Wales Police", 0.7),
    ("South Wales Police", 1.4),
    ("Police Scotland", 5.0),
    ("Police Service of Northern Ireland", 2.0),
    ("British Transport Police", 1.0),
    ("Civil Nuclear Constabulary", 0.3),
    ("Ministry of Defence Police", 0.5),
];

/// How a kind of system stores data.
#[derive(Debug, Clone, Copy)]
pub struct SystemProfile {
    /// Name as it appears in the `system` column.
    pub name: &'static str,
    /// Stored bytes at a mid-sized force (range, log-uniform).
    pub size: (f64, f64),
    /// Average object size in bytes (range).
    pub object_size: (f64, f64),
    /// Working-day ingest as a fraction of the stored bytes (range).
    pub growth: (f64, f64),
    /// Probability that a routine weekly expiry job runs on it.
    pub expiry: f64,
    /// Share of ingest that the expiry job later removes (range).
    pub expiry_share: (f64, f64),
    /// Routine daily deletions as a fraction of stored bytes (range).
    pub churn: (f64, f64),
    /// How likely the collector samples it every 6 hours instead of daily.
    pub sub_daily: f64,
}

const TB: f64 = 1e12;
const GB: f64 = 1e9;
const MB: f64 = 1e6;
const KB: f64 = 1e3;

/// Systems worth monitoring, with realistic sizes (DOMAIN.md).
pub const SYSTEMS: &[SystemProfile] = &[
    SystemProfile {
        name: "Body-worn video",
        size: (60.0 * TB, 600.0 * TB),
        object_size: (120.0 * MB, 300.0 * MB),
        growth: (0.002, 0.006),
        expiry: 0.8,
        expiry_share: (0.3, 0.6),
        churn: (0.0, 0.0003),
        sub_daily: 0.1,
    },
    SystemProfile {
        name: "Digital evidence",
        size: (100.0 * TB, 1500.0 * TB),
        object_size: (20.0 * MB, 200.0 * MB),
        growth: (0.001, 0.004),
        expiry: 0.2,
        expiry_share: (0.1, 0.3),
        churn: (0.0, 0.0002),
        sub_daily: 0.1,
    },
    SystemProfile {
        name: "Records management",
        size: (300.0 * GB, 5.0 * TB),
        object_size: (50.0 * KB, 400.0 * KB),
        growth: (0.0003, 0.0015),
        expiry: 0.0,
        expiry_share: (0.0, 0.0),
        churn: (0.0, 0.0003),
        sub_daily: 0.05,
    },
    SystemProfile {
        name: "Custody",
        size: (100.0 * GB, 3.0 * TB),
        object_size: (0.5 * MB, 5.0 * MB),
        growth: (0.0005, 0.002),
        expiry: 0.4,
        expiry_share: (0.2, 0.5),
        churn: (0.0, 0.0003),
        sub_daily: 0.05,
    },
    SystemProfile {
        name: "Intelligence",
        size: (50.0 * GB, 2.0 * TB),
        object_size: (20.0 * KB, 200.0 * KB),
        growth: (0.0002, 0.001),
        expiry: 0.0,
        expiry_share: (0.0, 0.0),
        churn: (0.0, 0.0003),
        sub_daily: 0.05,
    },
    SystemProfile {
        name: "File shares",
        size: (5.0 * TB, 150.0 * TB),
        object_size: (0.2 * MB, 5.0 * MB),
        growth: (0.0003, 0.0015),
        expiry: 0.0,
        expiry_share: (0.0, 0.0),
        churn: (0.0002, 0.001),
        sub_daily: 0.1,
    },
    SystemProfile {
        name: "Email archive",
        size: (2.0 * TB, 80.0 * TB),
        object_size: (50.0 * KB, 300.0 * KB),
        growth: (0.0005, 0.0015),
        expiry: 0.3,
        expiry_share: (0.05, 0.2),
        churn: (0.0, 0.0002),
        sub_daily: 0.05,
    },
    SystemProfile {
        name: "Command and control",
        size: (100.0 * GB, 2.0 * TB),
        object_size: (2.0 * KB, 20.0 * KB),
        growth: (0.0005, 0.002),
        expiry: 0.0,
        expiry_share: (0.0, 0.0),
        churn: (0.0, 0.0002),
        sub_daily: 0.1,
    },
    SystemProfile {
        name: "ANPR",
        size: (10.0 * TB, 200.0 * TB),
        object_size: (50.0 * KB, 200.0 * KB),
        growth: (0.001, 0.003),
        expiry: 0.6,
        expiry_share: (0.2, 0.5),
        churn: (0.0, 0.0002),
        sub_daily: 0.15,
    },
];

/// Pairs of stores of one force between which the generator moves data
/// (source, target): legacy arrays migrated to new ones.
pub const MOVE_STORES: &[(&str, &str)] = &[
    (
        "Evidence store (legacy array)",
        "Evidence store (new array)",
    ),
    ("File shares (old NAS)", "File shares (new NAS)"),
    ("Video archive (on premises)", "Video archive (cloud)"),
    ("Records archive (legacy)", "Records archive"),
];

/// The profile of a store in a migration: tens to hundreds of TB of
/// mid-sized files, steady growth, no weekly expiry job.
pub const MIGRATION_STORE: SystemProfile = SystemProfile {
    name: "Migration store",
    size: (20.0 * TB, 300.0 * TB),
    object_size: (5.0 * MB, 50.0 * MB),
    growth: (0.001, 0.003),
    expiry: 0.0,
    expiry_share: (0.0, 0.0),
    churn: (0.0, 0.0002),
    sub_daily: 0.0,
};
