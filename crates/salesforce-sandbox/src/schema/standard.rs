//! The standard objects the CRM tools need, with Salesforce's field names, types, lengths,
//! picklists and relationships (a realistic subset of each object's fields).

use super::field::{FieldDef, FieldType as T};
use super::object::ObjectDef;

/// An Opportunity stage with the values Salesforce derives from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    /// The `StageName` value.
    pub name: &'static str,
    /// Default `Probability` (percent).
    pub probability: u8,
    /// `IsClosed`.
    pub closed: bool,
    /// `IsWon`.
    pub won: bool,
    /// `ForecastCategoryName`.
    pub forecast: &'static str,
}

/// The default sales process stages, in order.
pub const OPPORTUNITY_STAGES: &[Stage] = &[
    stage("Prospecting", 10, false, false, "Pipeline"),
    stage("Qualification", 10, false, false, "Pipeline"),
    stage("Needs Analysis", 20, false, false, "Pipeline"),
    stage("Value Proposition", 50, false, false, "Pipeline"),
    stage("Id. Decision Makers", 60, false, false, "Pipeline"),
    stage("Perception Analysis", 70, false, false, "Pipeline"),
    stage("Proposal/Price Quote", 75, false, false, "Pipeline"),
    stage("Negotiation/Review", 90, false, false, "Commit"),
    stage("Closed Won", 100, true, true, "Closed"),
    stage("Closed Lost", 0, true, false, "Omitted"),
];

const fn stage(
    name: &'static str,
    probability: u8,
    closed: bool,
    won: bool,
    forecast: &'static str,
) -> Stage {
    Stage {
        name,
        probability,
        closed,
        won,
        forecast,
    }
}

/// The stage called `name` (case-insensitively).
pub fn opportunity_stage(name: &str) -> Option<&'static Stage> {
    OPPORTUNITY_STAGES
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name))
}

/// Lead statuses; the converted one is `Closed - Converted`.
pub const LEAD_STATUSES: &[&str] = &[
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
];
/// Ratings on Lead and Account.
pub const RATINGS: &[&str] = &["Hot", "Warm", "Cold"];
/// Industries on Lead and Account.
pub const INDUSTRIES: &[&str] = &[
    "Agriculture",
    "Apparel",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Entertainment",
    "Environmental",
    "Finance",
    "Food & Beverage",
    "Government",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Machinery",
    "Manufacturing",
    "Media",
    "Not For Profit",
    "Recreation",
    "Retail",
    "Shipping",
    "Technology",
    "Telecommunications",
    "Transportation",
    "Utilities",
    "Other",
];
/// Lead sources on Lead, Contact, Account and Opportunity.
pub const LEAD_SOURCES: &[&str] = &[
    "Web",
    "Phone Inquiry",
    "Partner Referral",
    "Purchased List",
    "Other",
];
/// Case statuses; `Closed` closes the case.
pub const CASE_STATUSES: &[&str] = &["New", "Working", "Escalated", "Closed"];
/// Case priorities.
pub const CASE_PRIORITIES: &[&str] = &["High", "Medium", "Low"];
/// Case origins.
pub const CASE_ORIGINS: &[&str] = &["Phone", "Email", "Web"];
/// Task statuses; `Completed` closes the task.
pub const TASK_STATUSES: &[&str] = &[
    "Not Started",
    "In Progress",
    "Completed",
    "Waiting on someone else",
    "Deferred",
];
/// Task priorities.
pub const TASK_PRIORITIES: &[&str] = &["High", "Normal", "Low"];

const SALUTATIONS: &[&str] = &["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."];
const ACTIVITY_TYPES: &[&str] = &["Call", "Email", "Meeting", "Other"];

fn f(name: &str, label: &str, ty: T) -> FieldDef {
    FieldDef::new(name, label, ty)
}

fn id_field() -> FieldDef {
    f("Id", "Record ID", T::Id).read_only()
}

fn owner() -> FieldDef {
    f("OwnerId", "Owner ID", T::Reference)
        .lookup(&["User"], "Owner")
        .required()
        .defaulted()
}

/// Audit lookups are rarely filtered on and would only cost memory to index.
fn unindexed(mut field: FieldDef) -> FieldDef {
    field.indexed = false;
    field
}

/// The deletion flag and creation fields (history rows, which are never modified, stop here).
fn creation_fields(object: ObjectDef) -> ObjectDef {
    object
        .with(f("IsDeleted", "Deleted", T::Boolean).read_only())
        .with(f("CreatedDate", "Created Date", T::Datetime).read_only())
        .with(unindexed(
            f("CreatedById", "Created By ID", T::Reference)
                .lookup(&["User"], "CreatedBy")
                .read_only(),
        ))
}

/// Fields every object has after its own: deletion flag and audit fields.
fn audit_fields(object: ObjectDef) -> ObjectDef {
    creation_fields(object)
        .with(f("LastModifiedDate", "Last Modified Date", T::Datetime).read_only())
        .with(unindexed(
            f("LastModifiedById", "Last Modified By ID", T::Reference)
                .lookup(&["User"], "LastModifiedBy")
                .read_only(),
        ))
        .with(f("SystemModstamp", "System Modstamp", T::Datetime).read_only())
}

fn compound_name() -> FieldDef {
    f("Name", "Full Name", T::String)
        .len(121)
        .calculated()
        .name_field()
}

/// The standard fields a new custom object starts with (before its custom fields).
pub fn custom_object_base(name: &str, label: &str, plural: &str, prefix: &str) -> ObjectDef {
    audit_fields(
        ObjectDef::new(name, label, plural, prefix)
            .with(id_field())
            .with(owner())
            .with(
                f("Name", &format!("{label} Name"), T::String)
                    .len(80)
                    .required()
                    .name_field(),
            ),
    )
}

/// All standard objects in describeGlobal order.
pub fn objects() -> Vec<ObjectDef> {
    vec![
        account(),
        contact(),
        lead(),
        opportunity(),
        opportunity_contact_role(),
        opportunity_history(),
        case(),
        task(),
        event(),
        user(),
        organization(),
    ]
}

fn account() -> ObjectDef {
    let o = ObjectDef::new("Account", "Account", "Accounts", "001")
        .with(id_field())
        .with(f("Name", "Account Name", T::String).required().name_field())
        .with(f("Type", "Account Type", T::Picklist).values(
            &[
                "Prospect",
                "Customer - Direct",
                "Customer - Channel",
                "Channel Partner / Reseller",
                "Installation Partner",
                "Technology Partner",
                "Other",
            ],
            None,
        ))
        .with(
            f("ParentId", "Parent Account ID", T::Reference)
                .lookup(&["Account"], "Parent")
                .children("ChildAccounts"),
        )
        .with(f("BillingStreet", "Billing Street", T::Textarea).len(255))
        .with(f("BillingCity", "Billing City", T::String).len(40))
        .with(f("BillingState", "Billing State/Province", T::String).len(80))
        .with(f("BillingPostalCode", "Billing Zip/Postal Code", T::String).len(20))
        .with(f("BillingCountry", "Billing Country", T::String).len(80))
        .with(f("Phone", "Account Phone", T::Phone))
        .with(f("Website", "Website", T::Url))
        .with(
            f("Industry", "Industry", T::Picklist)
                .values(INDUSTRIES, None)
                .indexed(),
        )
        .with(f("AnnualRevenue", "Annual Revenue", T::Currency).digits(18, 0))
        .with(f("NumberOfEmployees", "Employees", T::Int).digits(8, 0))
        .with(
            f("Rating", "Account Rating", T::Picklist)
                .values(RATINGS, None)
                .indexed(),
        )
        .with(f("AccountNumber", "Account Number", T::String).len(40))
        .with(f("AccountSource", "Account Source", T::Picklist).values(LEAD_SOURCES, None))
        .with(f("Description", "Account Description", T::Textarea))
        .with(owner())
        .with(f("LastActivityDate", "Last Activity", T::Date).read_only());
    audit_fields(o)
}

fn contact() -> ObjectDef {
    let o = ObjectDef::new("Contact", "Contact", "Contacts", "003")
        .with(id_field())
        .with(
            f("AccountId", "Account ID", T::Reference)
                .lookup(&["Account"], "Account")
                .children("Contacts"),
        )
        .with(f("LastName", "Last Name", T::String).len(80).required())
        .with(f("FirstName", "First Name", T::String).len(40))
        .with(f("Salutation", "Salutation", T::Picklist).values(SALUTATIONS, None))
        .with(compound_name())
        .with(f("Title", "Title", T::String).len(128))
        .with(f("Department", "Department", T::String).len(80))
        .with(f("Email", "Email", T::Email).indexed())
        .with(f("Phone", "Business Phone", T::Phone))
        .with(f("MobilePhone", "Mobile Phone", T::Phone))
        .with(f("MailingCity", "Mailing City", T::String).len(40))
        .with(f("MailingState", "Mailing State/Province", T::String).len(80))
        .with(f("MailingCountry", "Mailing Country", T::String).len(80))
        .with(f("LeadSource", "Lead Source", T::Picklist).values(LEAD_SOURCES, None))
        .with(f("Birthdate", "Birthdate", T::Date))
        .with(f("ReportsToId", "Reports To ID", T::Reference).lookup(&["Contact"], "ReportsTo"))
        .with(f("HasOptedOutOfEmail", "Email Opt Out", T::Boolean))
        .with(f("Description", "Contact Description", T::Textarea))
        .with(owner())
        .with(f("LastActivityDate", "Last Activity", T::Date).read_only());
    audit_fields(o)
}

fn lead() -> ObjectDef {
    let o = ObjectDef::new("Lead", "Lead", "Leads", "00Q")
        .with(id_field())
        .with(f("LastName", "Last Name", T::String).len(80).required())
        .with(f("FirstName", "First Name", T::String).len(40))
        .with(f("Salutation", "Salutation", T::Picklist).values(SALUTATIONS, None))
        .with(compound_name())
        .with(f("Title", "Title", T::String).len(128))
        .with(f("Company", "Company", T::String).required().indexed())
        .with(f("Email", "Email", T::Email).indexed())
        .with(f("Phone", "Phone", T::Phone))
        .with(f("MobilePhone", "Mobile Phone", T::Phone))
        .with(f("Website", "Website", T::Url))
        .with(f("Street", "Street", T::Textarea).len(255))
        .with(f("City", "City", T::String).len(40))
        .with(f("State", "State/Province", T::String).len(80))
        .with(f("PostalCode", "Zip/Postal Code", T::String).len(20))
        .with(f("Country", "Country", T::String).len(80))
        .with(
            f("Status", "Status", T::Picklist)
                .values(LEAD_STATUSES, Some("Open - Not Contacted"))
                .indexed()
                .required()
                .defaulted()
                .restricted(),
        )
        .with(
            f("Industry", "Industry", T::Picklist)
                .values(INDUSTRIES, None)
                .indexed(),
        )
        .with(
            f("Rating", "Rating", T::Picklist)
                .values(RATINGS, None)
                .indexed(),
        )
        .with(
            f("LeadSource", "Lead Source", T::Picklist)
                .values(LEAD_SOURCES, None)
                .indexed(),
        )
        .with(f("AnnualRevenue", "Annual Revenue", T::Currency).digits(18, 0))
        .with(f("NumberOfEmployees", "Employees", T::Int).digits(8, 0))
        .with(f("Description", "Description", T::Textarea))
        .with(f("IsConverted", "Converted", T::Boolean).create_only())
        .with(f("ConvertedDate", "Converted Date", T::Date).read_only())
        .with(
            f("ConvertedAccountId", "Converted Account ID", T::Reference)
                .lookup(&["Account"], "ConvertedAccount")
                .read_only(),
        )
        .with(
            f("ConvertedContactId", "Converted Contact ID", T::Reference)
                .lookup(&["Contact"], "ConvertedContact")
                .read_only(),
        )
        .with(
            f(
                "ConvertedOpportunityId",
                "Converted Opportunity ID",
                T::Reference,
            )
            .lookup(&["Opportunity"], "ConvertedOpportunity")
            .read_only(),
        )
        .with(f("IsUnreadByOwner", "Unread By Owner", T::Boolean))
        .with(f("HasOptedOutOfEmail", "Email Opt Out", T::Boolean))
        .with(owner())
        .with(f("LastActivityDate", "Last Activity", T::Date).read_only());
    audit_fields(o)
}

fn opportunity() -> ObjectDef {
    let stages: Vec<&str> = OPPORTUNITY_STAGES.iter().map(|s| s.name).collect();
    let o = ObjectDef::new("Opportunity", "Opportunity", "Opportunities", "006")
        .with(id_field())
        .with(
            f("AccountId", "Account ID", T::Reference)
                .lookup(&["Account"], "Account")
                .children("Opportunities"),
        )
        .with(
            f("Name", "Name", T::String)
                .len(120)
                .required()
                .name_field(),
        )
        .with(f("Description", "Description", T::Textarea))
        .with(
            f("StageName", "Stage", T::Picklist)
                .values(&stages, None)
                .indexed()
                .required()
                .restricted(),
        )
        .with(f("Amount", "Amount", T::Currency))
        .with(f("Probability", "Probability (%)", T::Percent).defaulted())
        .with(f("ExpectedRevenue", "Expected Amount", T::Currency).calculated())
        .with(f("CloseDate", "Close Date", T::Date).required().indexed())
        .with(f("Type", "Opportunity Type", T::Picklist).values(
            &[
                "Existing Customer - Upgrade",
                "Existing Customer - Replacement",
                "Existing Customer - Downgrade",
                "New Customer",
            ],
            None,
        ))
        .with(f("NextStep", "Next Step", T::String))
        .with(f("LeadSource", "Lead Source", T::Picklist).values(LEAD_SOURCES, None))
        .with(f("IsClosed", "Closed", T::Boolean).calculated())
        .with(f("IsWon", "Won", T::Boolean).calculated())
        .with(
            f("ForecastCategoryName", "Forecast Category", T::Picklist)
                .values(
                    &["Omitted", "Pipeline", "Best Case", "Commit", "Closed"],
                    None,
                )
                .defaulted(),
        )
        .with(owner())
        .with(f("LastActivityDate", "Last Activity", T::Date).read_only());
    audit_fields(o)
}

fn opportunity_contact_role() -> ObjectDef {
    let mut o = ObjectDef::new(
        "OpportunityContactRole",
        "Opportunity Contact Role",
        "Opportunity Contact Role",
        "00k",
    )
    .with(id_field())
    .with(
        f("OpportunityId", "Opportunity ID", T::Reference)
            .lookup(&["Opportunity"], "Opportunity")
            .children("OpportunityContactRoles")
            .cascade()
            .required(),
    )
    .with(
        f("ContactId", "Contact ID", T::Reference)
            .lookup(&["Contact"], "Contact")
            .children("OpportunityContactRoles")
            .cascade()
            .required(),
    )
    .with(f("Role", "Role", T::Picklist).values(
        &[
            "Business User",
            "Decision Maker",
            "Economic Buyer",
            "Economic Decision Maker",
            "Evaluator",
            "Executive Sponsor",
            "Influencer",
            "Technical Buyer",
            "Other",
        ],
        None,
    ))
    .with(f("IsPrimary", "Primary", T::Boolean));
    o.searchable = false;
    audit_fields(o)
}

/// `ForecastCategory` values of OpportunityHistory (the API names behind Opportunity's
/// `ForecastCategoryName` labels: `Best Case` is `BestCase`, `Commit` is `Forecast`).
pub const HISTORY_FORECAST_CATEGORIES: &[&str] = &[
    "Omitted",
    "Pipeline",
    "BestCase",
    "Forecast",
    "MostLikely",
    "Closed",
];

/// The `ForecastCategory` API name of an Opportunity `ForecastCategoryName` value.
pub fn history_forecast_category(name: &str) -> &str {
    match name {
        "Best Case" => "BestCase",
        "Commit" => "Forecast",
        other => other,
    }
}

/// The stage history Salesforce keeps for each Opportunity: read-only (written by the org when
/// an Opportunity is created or its StageName, Amount, Probability or CloseDate changes),
/// queryable, deleted with its Opportunity.
fn opportunity_history() -> ObjectDef {
    let stages: Vec<&str> = OPPORTUNITY_STAGES.iter().map(|s| s.name).collect();
    let mut o = ObjectDef::new(
        "OpportunityHistory",
        "Opportunity History",
        "Opportunity History",
        "008",
    )
    .with(f("Id", "Opportunity History ID", T::Id).read_only())
    .with(
        f("OpportunityId", "Opportunity ID", T::Reference)
            .lookup(&["Opportunity"], "Opportunity")
            .children("OpportunityHistories")
            .cascade()
            .required()
            .read_only(),
    )
    .with(
        f("StageName", "Stage Name", T::Picklist)
            .values(&stages, None)
            .required()
            .read_only(),
    )
    .with(f("Amount", "Amount", T::Currency).read_only())
    .with(f("ExpectedRevenue", "Expected Revenue", T::Currency).read_only())
    .with(f("CloseDate", "Close Date", T::Date).read_only())
    .with(
        f("Probability", "Probability", T::Percent)
            .digits(3, 0)
            .read_only(),
    )
    .with(
        f("ForecastCategory", "To Forecast Category", T::Picklist)
            .values(HISTORY_FORECAST_CATEGORIES, None)
            .len(40)
            .restricted()
            .read_only(),
    )
    .with(f("PrevAmount", "Previous Amount", T::Currency).read_only())
    .with(f("PrevCloseDate", "Previous Close Date", T::Date).read_only());
    o = creation_fields(o).with(f("SystemModstamp", "System Modstamp", T::Datetime).read_only());
    o.createable = false;
    o.updateable = false;
    o.deletable = false;
    o.searchable = false;
    o
}

fn case() -> ObjectDef {
    let o = ObjectDef::new("Case", "Case", "Cases", "500")
        .with(id_field())
        .with(
            f("CaseNumber", "Case Number", T::String)
                .len(30)
                .read_only()
                .name_field(),
        )
        .with(
            f("AccountId", "Account ID", T::Reference)
                .lookup(&["Account"], "Account")
                .children("Cases"),
        )
        .with(
            f("ContactId", "Contact ID", T::Reference)
                .lookup(&["Contact"], "Contact")
                .children("Cases"),
        )
        .with(f("Subject", "Subject", T::String))
        .with(f("Description", "Description", T::Textarea))
        .with(
            f("Status", "Status", T::Picklist)
                .values(CASE_STATUSES, Some("New"))
                .indexed()
                .restricted(),
        )
        .with(
            f("Priority", "Priority", T::Picklist)
                .values(CASE_PRIORITIES, Some("Medium"))
                .indexed(),
        )
        .with(f("Origin", "Case Origin", T::Picklist).values(CASE_ORIGINS, None))
        .with(f("Type", "Case Type", T::Picklist).values(
            &[
                "Mechanical",
                "Electrical",
                "Electronic",
                "Structural",
                "Other",
            ],
            None,
        ))
        .with(f("IsClosed", "Closed", T::Boolean).calculated())
        .with(f("ClosedDate", "Closed Date", T::Datetime).read_only())
        .with(f("IsEscalated", "Escalated", T::Boolean))
        .with(f("SuppliedEmail", "Web Email", T::Email))
        .with(f("SuppliedName", "Web Name", T::String).len(80))
        .with(owner());
    audit_fields(o)
}

fn activity(name: &str, label: &str, plural: &str, prefix: &str, children: &str) -> ObjectDef {
    ObjectDef::new(name, label, plural, prefix)
        .with(id_field())
        .with(
            f("WhoId", "Name ID", T::Reference)
                .lookup(&["Contact", "Lead"], "Who")
                .children(children),
        )
        .with(
            f("WhatId", "Related To ID", T::Reference)
                .lookup(&["Account", "Opportunity", "Case"], "What")
                .children(children),
        )
        .with(f("Subject", "Subject", T::String))
        .with(f("ActivityDate", "Due Date Only", T::Date).indexed())
        .with(f("Description", "Description", T::Textarea))
        .with(f("Type", "Type", T::Picklist).values(ACTIVITY_TYPES, None))
}

fn task() -> ObjectDef {
    let o = activity("Task", "Task", "Tasks", "00T", "Tasks")
        .with(
            f("Status", "Status", T::Picklist)
                .values(TASK_STATUSES, Some("Not Started"))
                .indexed()
                .required()
                .defaulted()
                .restricted(),
        )
        .with(
            f("Priority", "Priority", T::Picklist)
                .values(TASK_PRIORITIES, Some("Normal"))
                .required()
                .defaulted(),
        )
        .with(f("IsClosed", "Closed", T::Boolean).calculated())
        .with(
            f("TaskSubtype", "Task Subtype", T::Picklist)
                .values(&["Task", "Email", "Call"], Some("Task"))
                .create_only(),
        )
        .with(f("CallDurationInSeconds", "Call Duration", T::Int))
        .with(owner());
    audit_fields(o)
}

fn event() -> ObjectDef {
    let o = activity("Event", "Event", "Events", "00U", "Events")
        .with(f("Location", "Location", T::String))
        .with(f("ActivityDateTime", "Due Date Time", T::Datetime))
        .with(f("StartDateTime", "Start Date Time", T::Datetime).indexed())
        .with(f("EndDateTime", "End Date Time", T::Datetime))
        .with(f("DurationInMinutes", "Duration", T::Int))
        .with(f("IsAllDayEvent", "All-Day Event", T::Boolean))
        .with(
            f("ShowAs", "Show Time As", T::Picklist)
                .values(&["Busy", "OutOfOffice", "Free"], Some("Busy")),
        )
        .with(owner());
    audit_fields(o)
}

fn user() -> ObjectDef {
    let mut o = ObjectDef::new("User", "User", "Users", "005")
        .with(id_field())
        .with(
            f("Username", "Username", T::String)
                .len(80)
                .required()
                .external_id(true),
        )
        .with(f("LastName", "Last Name", T::String).len(80).required())
        .with(f("FirstName", "First Name", T::String).len(40))
        .with(compound_name())
        .with(f("Alias", "Alias", T::String).len(8).required())
        .with(f("Email", "Email", T::Email).required())
        .with(f("IsActive", "Active", T::Boolean))
        .with(f("Title", "Title", T::String).len(80))
        .with(f("Department", "Department", T::String).len(80))
        .with(f("Phone", "Phone", T::Phone))
        .with(
            f("TimeZoneSidKey", "Time Zone", T::String)
                .len(40)
                .required()
                .defaulted(),
        )
        .with(
            f("UserType", "User Type", T::Picklist)
                .values(&["Standard", "AutomatedProcess"], Some("Standard"))
                .read_only(),
        )
        .with(
            f("ManagerId", "Manager ID", T::Reference)
                .lookup(&["User"], "Manager")
                .children("ManagedUsers"),
        );
    o.deletable = false;
    audit_fields(o)
}

fn organization() -> ObjectDef {
    let mut o = ObjectDef::new("Organization", "Organization", "Organizations", "00D")
        .with(id_field())
        .with(
            f("Name", "Name", T::String)
                .len(80)
                .read_only()
                .name_field(),
        )
        .with(
            f("OrganizationType", "Edition", T::String)
                .len(40)
                .read_only(),
        )
        .with(
            f("InstanceName", "Instance Name", T::String)
                .len(5)
                .read_only(),
        )
        .with(f("IsSandbox", "Is Sandbox", T::Boolean).read_only())
        .with(
            f("TimeZoneSidKey", "Default Time Zone", T::String)
                .len(40)
                .read_only(),
        );
    o.createable = false;
    o.updateable = false;
    o.deletable = false;
    o.searchable = false;
    o
}
