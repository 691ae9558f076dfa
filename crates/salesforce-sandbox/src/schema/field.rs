//! Field definitions: types, lengths, flags, picklists and lookups, with a small builder used by
//! the standard objects and the custom-object loader.

use serde::{Deserialize, Serialize};

/// A field's type as describe names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// The record id.
    Id,
    /// Single-line text.
    String,
    /// Multi-line text.
    Textarea,
    /// One value from a list.
    Picklist,
    /// Several values from a list, joined with `;`.
    Multipicklist,
    /// A lookup to another record.
    Reference,
    /// True or false.
    Boolean,
    /// A money amount.
    Currency,
    /// A floating-point number.
    Double,
    /// An integer.
    Int,
    /// A percentage.
    Percent,
    /// A calendar date.
    Date,
    /// An instant in time.
    Datetime,
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
    /// A web address.
    Url,
}

impl FieldType {
    /// The name describe uses (`"string"`, `"reference"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::String => "string",
            Self::Textarea => "textarea",
            Self::Picklist => "picklist",
            Self::Multipicklist => "multipicklist",
            Self::Reference => "reference",
            Self::Boolean => "boolean",
            Self::Currency => "currency",
            Self::Double => "double",
            Self::Int => "int",
            Self::Percent => "percent",
            Self::Date => "date",
            Self::Datetime => "datetime",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Url => "url",
        }
    }

    /// The SOAP type describe reports next to the type.
    pub fn soap_type(self) -> &'static str {
        match self {
            Self::Id | Self::Reference => "tns:ID",
            Self::Boolean => "xsd:boolean",
            Self::Currency | Self::Double | Self::Percent => "xsd:double",
            Self::Int => "xsd:int",
            Self::Date => "xsd:date",
            Self::Datetime => "xsd:dateTime",
            _ => "xsd:string",
        }
    }

    /// Whether values of this type are text (stored as strings, limited by `length`).
    pub fn is_text(self) -> bool {
        matches!(
            self,
            Self::String
                | Self::Textarea
                | Self::Picklist
                | Self::Multipicklist
                | Self::Email
                | Self::Phone
                | Self::Url
        )
    }

    /// Whether values of this type are numbers with precision and scale.
    pub fn is_decimal(self) -> bool {
        matches!(self, Self::Currency | Self::Double | Self::Percent)
    }
}

/// One value of a picklist.
#[derive(Debug, Clone, PartialEq)]
pub struct PicklistValue {
    /// The API value.
    pub value: String,
    /// The label shown to users.
    pub label: String,
    /// Whether it can be chosen.
    pub active: bool,
    /// Whether it is the default for new records.
    pub default_value: bool,
}

/// Everything the sandbox knows about one field.
#[derive(Debug, Clone)]
pub struct FieldDef {
    /// API name, e.g. `AccountId` or `Score__c`.
    pub name: String,
    /// Label.
    pub label: String,
    /// Type.
    pub field_type: FieldType,
    /// Maximum length of text values (0 for non-text).
    pub length: u32,
    /// Total digits of numbers.
    pub precision: u32,
    /// Digits after the decimal point.
    pub scale: u32,
    /// Whether the field may be null.
    pub nillable: bool,
    /// Whether it can be set on insert.
    pub createable: bool,
    /// Whether it can be set on update.
    pub updateable: bool,
    /// Whether it is a custom (`__c`) field.
    pub custom: bool,
    /// Whether it is an external id (usable for upsert).
    pub external_id: bool,
    /// Whether values must be unique (case-insensitively).
    pub unique: bool,
    /// Whether it is the object's name field.
    pub name_field: bool,
    /// Whether the org fills it in on create when it is missing.
    pub defaulted_on_create: bool,
    /// Whether it is computed (formula, roll-up, compound name).
    pub calculated: bool,
    /// Whether the sandbox keeps an index on it for fast equality filters.
    pub indexed: bool,
    /// Objects a lookup may point at (several for polymorphic lookups like `Task.WhoId`).
    pub reference_to: Vec<String>,
    /// Name of the parent relationship (`Account` for `AccountId`, `Foo__r` for `Foo__c`).
    pub relationship_name: Option<String>,
    /// Name of the child relationship this lookup creates on its parent (`Contacts`).
    pub child_relationship_name: Option<String>,
    /// Whether deleting the parent deletes this record.
    pub cascade_delete: bool,
    /// Picklist values in order.
    pub picklist_values: Vec<PicklistValue>,
    /// Whether values outside the picklist are refused.
    pub restricted_picklist: bool,
}

impl FieldDef {
    /// A nillable, createable and updateable field of the given type with a sensible length.
    pub fn new(name: &str, label: &str, field_type: FieldType) -> Self {
        let (length, precision, scale) = match field_type {
            FieldType::Id | FieldType::Reference => (18, 0, 0),
            FieldType::String | FieldType::Picklist | FieldType::Url => (255, 0, 0),
            FieldType::Textarea => (32000, 0, 0),
            FieldType::Multipicklist => (4099, 0, 0),
            FieldType::Email => (80, 0, 0),
            FieldType::Phone => (40, 0, 0),
            FieldType::Currency => (0, 18, 2),
            FieldType::Double => (0, 18, 2),
            FieldType::Percent => (0, 3, 0),
            FieldType::Int => (0, 9, 0),
            FieldType::Boolean | FieldType::Date | FieldType::Datetime => (0, 0, 0),
        };
        Self {
            name: name.to_owned(),
            label: label.to_owned(),
            field_type,
            length,
            precision,
            scale,
            nillable: field_type != FieldType::Boolean && field_type != FieldType::Id,
            createable: field_type != FieldType::Id,
            updateable: field_type != FieldType::Id,
            custom: name.ends_with("__c"),
            external_id: false,
            unique: false,
            name_field: false,
            defaulted_on_create: field_type == FieldType::Boolean,
            calculated: false,
            indexed: matches!(field_type, FieldType::Id | FieldType::Reference),
            reference_to: Vec::new(),
            relationship_name: None,
            child_relationship_name: None,
            cascade_delete: false,
            picklist_values: Vec::new(),
            restricted_picklist: false,
        }
    }

    /// Sets the maximum text length.
    pub fn len(mut self, length: u32) -> Self {
        self.length = length;
        self
    }

    /// Sets precision and scale.
    pub fn digits(mut self, precision: u32, scale: u32) -> Self {
        self.precision = precision;
        self.scale = scale;
        self
    }

    /// Makes the field required: not nillable and not defaulted.
    pub fn required(mut self) -> Self {
        self.nillable = false;
        self.defaulted_on_create = false;
        self
    }

    /// Marks the field as filled in by the org when missing on create.
    pub fn defaulted(mut self) -> Self {
        self.defaulted_on_create = true;
        self
    }

    /// Makes the field read-only (neither createable nor updateable).
    pub fn read_only(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self
    }

    /// Makes the field settable on insert only.
    pub fn create_only(mut self) -> Self {
        self.updateable = false;
        self
    }

    /// Marks the field as computed by the org (read-only).
    pub fn calculated(mut self) -> Self {
        self.calculated = true;
        self.read_only()
    }

    /// Marks the field as the object's name field.
    pub fn name_field(mut self) -> Self {
        self.name_field = true;
        self.indexed = true;
        self
    }

    /// Marks the field as a unique external id.
    pub fn external_id(mut self, unique: bool) -> Self {
        self.external_id = true;
        self.unique = unique;
        self.indexed = true;
        self
    }

    /// Keeps an equality index on the field.
    pub fn indexed(mut self) -> Self {
        self.indexed = true;
        self
    }

    /// Makes the field a lookup to `targets` with the given parent relationship name.
    pub fn lookup(mut self, targets: &[&str], relationship: &str) -> Self {
        self.reference_to = targets.iter().map(|t| (*t).to_owned()).collect();
        self.relationship_name = Some(relationship.to_owned());
        self.indexed = true;
        self
    }

    /// Names the child relationship this lookup creates on its parents.
    pub fn children(mut self, child_relationship: &str) -> Self {
        self.child_relationship_name = Some(child_relationship.to_owned());
        self
    }

    /// Deleting the parent deletes this record too.
    pub fn cascade(mut self) -> Self {
        self.cascade_delete = true;
        self
    }

    /// Sets the picklist values; `default` (if any) is the default value. Picklists are not
    /// indexed unless asked ([`FieldDef::indexed`]): most are never filtered on.
    pub fn values(mut self, values: &[&str], default: Option<&str>) -> Self {
        self.picklist_values = values
            .iter()
            .map(|v| PicklistValue {
                value: (*v).to_owned(),
                label: (*v).to_owned(),
                active: true,
                default_value: Some(*v) == default,
            })
            .collect();
        if default.is_some() {
            self.defaulted_on_create = true;
        }
        self
    }

    /// Refuses values outside the picklist.
    pub fn restricted(mut self) -> Self {
        self.restricted_picklist = true;
        self
    }

    /// Whether a create must supply it: not nillable, createable and not defaulted.
    pub fn is_required(&self) -> bool {
        !self.nillable && self.createable && !self.defaulted_on_create
    }

    /// The default picklist value, if one is marked.
    pub fn default_picklist_value(&self) -> Option<&str> {
        self.picklist_values
            .iter()
            .find(|v| v.default_value)
            .map(|v| v.value.as_str())
    }

    /// Whether `value` is one of the active picklist values (case-sensitive, as stored).
    pub fn picklist_contains(&self, value: &str) -> Option<&str> {
        self.picklist_values
            .iter()
            .find(|v| v.active && v.value.eq_ignore_ascii_case(value))
            .map(|v| v.value.as_str())
    }
}
