//! Word lists for realistic people, companies, places and activity subjects.

use super::rng::Rng;

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Priya",
    "Ashley",
    "Steven",
    "Emily",
    "Andrew",
    "Donna",
    "Kenji",
    "Michelle",
    "Joshua",
    "Carol",
    "Kevin",
    "Amanda",
    "Brian",
    "Melissa",
    "Wei",
    "Deborah",
    "Omar",
    "Stephanie",
    "Lucas",
    "Rebecca",
    "Ahmed",
    "Laura",
    "Mateo",
    "Sofia",
    "Noah",
    "Olivia",
    "Liam",
    "Emma",
    "Arjun",
    "Chloe",
];

const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Patel",
    "Kim",
    "Chen",
    "Singh",
    "Okafor",
    "Schmidt",
    "Rossi",
];

const COMPANY_A: &[&str] = &[
    "Blue",
    "Summit",
    "Pioneer",
    "Apex",
    "Silver",
    "Northern",
    "Bright",
    "Global",
    "Pacific",
    "Granite",
    "Evergreen",
    "Atlas",
    "Crescent",
    "Vertex",
    "Harbor",
    "Quantum",
    "Redwood",
    "Union",
    "Lakeside",
    "Keystone",
    "Horizon",
    "Sterling",
    "Cascade",
    "Iron",
    "Golden",
    "United",
    "Prime",
    "Metro",
    "Coastal",
    "Alpine",
];

const COMPANY_B: &[&str] = &[
    "Ridge",
    "Point",
    "Labs",
    "Systems",
    "Dynamics",
    "Logistics",
    "Health",
    "Energy",
    "Foods",
    "Analytics",
    "Partners",
    "Networks",
    "Robotics",
    "Capital",
    "Media",
    "Motors",
    "Software",
    "Solutions",
    "Pharma",
    "Telecom",
    "Foundry",
    "Works",
    "Outfitters",
    "Biotech",
    "Ventures",
];

const COMPANY_C: &[&str] = &["Inc", "LLC", "Corp", "Ltd", "Group", "Co", "GmbH", "PLC"];

const CITIES: &[(&str, &str)] = &[
    ("San Francisco", "CA"),
    ("New York", "NY"),
    ("Austin", "TX"),
    ("Chicago", "IL"),
    ("Seattle", "WA"),
    ("Boston", "MA"),
    ("Denver", "CO"),
    ("Atlanta", "GA"),
    ("Miami", "FL"),
    ("Portland", "OR"),
    ("Toronto", "ON"),
    ("London", "ENG"),
    ("Berlin", "BE"),
    ("Paris", "IDF"),
    ("Sydney", "NSW"),
];

const TITLES: &[&str] = &[
    "CEO",
    "CFO",
    "CTO",
    "VP Sales",
    "VP Marketing",
    "Director of Operations",
    "IT Manager",
    "Procurement Manager",
    "Head of Engineering",
    "Marketing Manager",
    "Sales Manager",
    "Software Engineer",
    "Operations Analyst",
    "Office Manager",
    "COO",
];

const DEPARTMENTS: &[&str] = &[
    "Executive",
    "Finance",
    "Sales",
    "Marketing",
    "Engineering",
    "Operations",
    "IT",
    "Procurement",
];

/// Titles of the generated sales users.
pub(crate) const SALES_TITLES: &[&str] = &[
    "Account Executive",
    "Sales Development Rep",
    "Sales Manager",
    "Customer Success Manager",
];

/// Next steps of open opportunities.
pub(crate) const NEXT_STEPS: &[&str] = &[
    "Schedule demo",
    "Send proposal",
    "Follow up on pricing",
    "Legal review",
    "Meet the economic buyer",
    "Technical evaluation",
];

/// Case subjects.
pub(crate) const CASE_SUBJECTS: &[&str] = &[
    "Cannot log in",
    "Invoice discrepancy",
    "Shipment delayed",
    "Feature request: export to CSV",
    "Integration failing with timeout",
    "Password reset not received",
    "Billing address change",
    "Product defect reported",
];

/// Task subjects.
pub(crate) const TASK_SUBJECTS: &[&str] = &[
    "Call",
    "Send quote",
    "Follow up",
    "Email",
    "Send letter",
    "Prepare proposal",
    "Check in after demo",
];

/// Event subjects.
pub(crate) const EVENT_SUBJECTS: &[&str] = &[
    "Meeting",
    "Demo",
    "Discovery call",
    "Quarterly business review",
    "Onsite visit",
    "Contract negotiation",
];

fn pick<'a>(rng: &mut Rng, list: &'a [&'a str]) -> &'a str {
    rng.choose(list).copied().unwrap_or_default()
}

pub(crate) fn first_name(rng: &mut Rng) -> &'static str {
    pick(rng, FIRST)
}

pub(crate) fn last_name(rng: &mut Rng) -> &'static str {
    pick(rng, LAST)
}

pub(crate) fn pick_title(rng: &mut Rng) -> &'static str {
    pick(rng, TITLES)
}

pub(crate) fn pick_department(rng: &mut Rng) -> &'static str {
    pick(rng, DEPARTMENTS)
}

/// A company name; `n` makes names beyond the word combinations distinct.
pub(crate) fn company(rng: &mut Rng, n: usize) -> String {
    let a = pick(rng, COMPANY_A);
    let b = pick(rng, COMPANY_B);
    let c = pick(rng, COMPANY_C);
    let combos = COMPANY_A.len() * COMPANY_B.len();
    if n < combos {
        format!("{a} {b} {c}")
    } else {
        format!("{a} {b} {} {c}", n / combos + 1)
    }
}

pub(crate) fn website(company: &str) -> String {
    let host: String = company
        .split_whitespace()
        .take(2)
        .collect::<String>()
        .to_lowercase();
    format!("https://www.{host}.example.com")
}

pub(crate) fn email(rng: &mut Rng, first: &str, last: &str) -> String {
    let domain = pick(rng, COMPANY_A).to_lowercase();
    format!(
        "{}.{}{}@{domain}.example.com",
        first.to_lowercase(),
        last.to_lowercase(),
        rng.below(100)
    )
}

pub(crate) fn phone(rng: &mut Rng) -> String {
    format!("({}) 555-{:04}", 200 + rng.below(800), rng.below(10_000))
}

pub(crate) fn city(rng: &mut Rng) -> (&'static str, &'static str) {
    rng.choose(CITIES).copied().unwrap_or(("Springfield", "IL"))
}

pub(crate) fn deal_name(rng: &mut Rng) -> String {
    const KINDS: &[&str] = &[
        "Platform Expansion",
        "Annual Renewal",
        "Pilot",
        "Enterprise License",
        "Services Engagement",
        "Upgrade",
        "New Logo",
    ];
    format!("{} - {}", pick(rng, COMPANY_A), pick(rng, KINDS))
}
