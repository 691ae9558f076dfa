//! Salesforce record ids: 15- and 18-character forms, the checksum, key prefixes.
